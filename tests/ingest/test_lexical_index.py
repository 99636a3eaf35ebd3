"""The persisted, shared BM25 index: ranks as bm25s does, updates per document.

Two HybridRetriever instances on one index directory stand for two API processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from evals.datasets.loader import load_jsonl
from ingest.corpus_chunks import corpus_chunks
from ingest.embeddings import CountingEmbeddings
from ingest.lexical_store import LexicalStore, SearchFilters
from ingest.retrieval import HybridRetriever, LexicalIndex
from ingest.sync import Synchronizer
from ingest.vectorstore import KnowledgeBaseStore, StoredChunk

REPO = Path(__file__).resolve().parents[2]
FILTERS = [
    None,
    SearchFilters(kinds=("api_reference",)),
    SearchFilters(source_prefix="docs/guides"),
    SearchFilters(kinds=("guide",), source_prefix="docs/guides/cards"),
]


def _same_ranking(
    a: Sequence[tuple[StoredChunk, float]], b: Sequence[tuple[StoredChunk, float]]
) -> None:
    """Equal scores rank for rank; equal chunk sets above the last tie (bm25s sums float32)."""
    assert len(a) == len(b)
    for (_, sa), (_, sb) in zip(a, b, strict=True):
        assert sa == pytest.approx(sb, rel=1e-4)
    if not a:
        return
    floor = a[-1][1] * (1 + 1e-4)
    assert {c.chunk_id for c, s in a if s > floor} == {c.chunk_id for c, s in b if s > floor}


@pytest.fixture(scope="module")
def grid_chunks(grid_root: Path) -> list[StoredChunk]:
    return list(corpus_chunks(grid_root))


@pytest.fixture(scope="module")
def dev_questions() -> list[str]:
    return [i.message for i in load_jsonl(REPO / "evals/datasets/grid_dev.jsonl")]


def test_ranks_as_bm25s_on_the_grid_dev_set(
    grid_chunks: list[StoredChunk], dev_questions: list[str], tmp_path: Path
) -> None:
    reference = LexicalIndex(grid_chunks, 1, heading_repeats=2)
    index = LexicalStore(tmp_path / "lex", 2).open(1, "grid", lambda: grid_chunks)
    for filters in FILTERS:
        for question in dev_questions:
            got = index.search(question, 30, filters)
            _same_ranking(reference.search(question, 30, filters), got)
            if filters is not None:
                assert all(filters.accepts(c.metadata) for c, _ in got)


def test_base_plus_delta_ranks_as_a_fresh_build(
    grid_chunks: list[StoredChunk], dev_questions: list[str], tmp_path: Path
) -> None:
    docs = sorted({str(c.metadata["doc_id"]) for c in grid_chunks})
    changed = set(docs[::7])  # every seventh page edited: its chunks replaced
    removed = set(docs[3::11]) - changed  # and some pages deleted
    edited = [
        StoredChunk(c.chunk_id + "-v2", c.text + " reconciliation ledger", dict(c.metadata))
        for c in grid_chunks
        if c.metadata["doc_id"] in changed
    ]
    after = [c for c in grid_chunks if c.metadata["doc_id"] not in changed | removed] + edited
    store = LexicalStore(tmp_path / "lex", 2)
    store.open(1, "grid", lambda: grid_chunks)
    store.apply(changed | removed, edited, 2, "grid", lambda: pytest.fail("no full rebuild"))
    incremental = store.open(2, "grid", lambda: pytest.fail("no full rebuild"))
    assert len(store.manifest()["segments"]) == 2  # type: ignore[index]
    fresh = LexicalIndex(after, 2, heading_repeats=2)
    assert incremental.size == len(after)
    for filters in FILTERS[:3]:
        for question in [*dev_questions[:40], "reconciliation ledger"]:
            _same_ranking(
                fresh.search(question, 20, filters), incremental.search(question, 20, filters)
            )


def _store(path: Path) -> KnowledgeBaseStore:
    client = chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    return KnowledgeBaseStore(client, "docs", model_name="all-MiniLM-L6-v2", dimension=384)


@pytest.fixture
def two_processes(
    tmp_path: Path, minilm: Any
) -> tuple[KnowledgeBaseStore, CountingEmbeddings, HybridRetriever, HybridRetriever]:
    emb = CountingEmbeddings(minilm, model_name="all-MiniLM-L6-v2", dimension=384)
    store = _store(tmp_path / "chroma")
    first = HybridRetriever(store, emb, refresh_seconds=0, lexical_dir=tmp_path / "lex")
    # The second "process" has its own Chroma client and its own retriever object.
    second = HybridRetriever(
        _store(tmp_path / "chroma"), emb, refresh_seconds=0, lexical_dir=tmp_path / "lex"
    )
    return store, emb, first, second


def test_an_edit_through_one_process_is_searchable_through_the_other(
    two_processes: Any, grid_sample: Path
) -> None:
    store, emb, first, second = two_processes
    Synchronizer(store, emb, lexical=first.lexical_store).sync([grid_sample])
    assert second.search("webhook signature", 3, mode="lexical")
    base = second.lexical_store.manifest()["segments"][0]["name"]
    opened_base = second.lexical_index().segments[0]

    page = sorted(grid_sample.rglob("*.md"))[0]
    page.write_text(page.read_text() + "\n\n## Zanzibarite settlement\n\nQuokkafloss windows.\n")
    report = Synchronizer(store, emb, lexical=first.lexical_store).sync([grid_sample])
    assert report.docs_updated == 1, report

    hits = second.search("quokkafloss zanzibarite", 3, mode="lexical")
    assert hits
    assert "Quokkafloss" in hits[0].text
    segments = second.lexical_store.manifest()["segments"]
    assert segments[0]["name"] == base  # the rest was not re-indexed
    assert second.lexical_index().segments[0] is opened_base  # nor re-opened
    assert {c.metadata["doc_id"] for c in second.lexical_index().segments[1].chunks()} == {
        hits[0].doc_id
    }
    # Nothing stale: the edited page's old chunks are gone, the index mirrors Chroma.
    assert {c.chunk_id for c in second.lexical_index().chunks} == {
        cid for cid, _ in store.all_metadata()
    }
    assert second.search("quokkafloss", 3, filters=SearchFilters(source_prefix="nowhere/")) == []


def test_a_writer_without_the_index_makes_readers_rebuild_once(
    two_processes: Any, grid_sample: Path
) -> None:
    store, emb, first, second = two_processes
    Synchronizer(store, emb, lexical=first.lexical_store).sync([grid_sample])
    first.search("webhook", 1, mode="lexical")
    page = sorted(grid_sample.rglob("*.md"))[1]
    page.write_text(page.read_text() + "\n\nThe word marmalizer appears here.\n")
    Synchronizer(store, emb).sync([grid_sample])  # knows nothing of the lexical index
    assert second.search("marmalizer", 1, mode="lexical")
    assert first.search("marmalizer", 1, mode="lexical")
    assert first.lexical_store.manifest()["revision"] == store.revision()


class _Crashing(CountingEmbeddings):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise KeyboardInterrupt  # stands for a kill in the middle of a run


def test_a_crashed_sync_is_replayed_into_the_index(two_processes: Any, grid_sample: Path) -> None:
    store, emb, first, second = two_processes
    Synchronizer(store, emb, lexical=first.lexical_store).sync([grid_sample])
    pages = sorted(grid_sample.rglob("*.md"))
    pages[0].unlink()  # deleted from Chroma before the crash
    pages[2].write_text(pages[2].read_text() + "\n\nFlibbertigibbet reconciliation.\n")
    crashing = _Crashing(emb.inner, model_name=emb.model_name, dimension=emb.dimension)
    with pytest.raises(KeyboardInterrupt):
        Synchronizer(store, crashing, lexical=first.lexical_store).sync([grid_sample])
    assert first.lexical_store.pending()
    Synchronizer(store, emb, lexical=first.lexical_store).sync([grid_sample])
    assert not first.lexical_store.pending()
    assert {c.chunk_id for c in second.lexical_index().chunks} == {
        cid for cid, _ in store.all_metadata()
    }
    assert second.search("flibbertigibbet", 1, mode="lexical")
