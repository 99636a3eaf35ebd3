"""Untrusted passages in the index: flags stored at ingest, re-screened without
re-embedding, and caught at query time even when a chunk carries no flag."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from ingest.embeddings import CountingEmbeddings
from ingest.retrieval import Hit, HybridRetriever
from ingest.screening import HitScreen
from ingest.sync import Synchronizer
from ingest.vectorstore import KnowledgeBaseStore, StoredChunk

POISONED = Path(__file__).resolve().parents[1] / "fixtures" / "poisoned_docs"


@pytest.fixture
def kb(tmp_path: Path, minilm: Any) -> tuple[KnowledgeBaseStore, CountingEmbeddings]:
    client = chromadb.PersistentClient(
        path=str(tmp_path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    emb = CountingEmbeddings(minilm, model_name="all-MiniLM-L6-v2", dimension=384)
    return KnowledgeBaseStore(client, "docs", model_name="all-MiniLM-L6-v2", dimension=384), emb


@pytest.fixture
def corpus(tmp_path: Path, grid_sample: Path) -> Path:
    shutil.copytree(POISONED, grid_sample / "poisoned_docs")
    return grid_sample


def test_flags_are_stored_and_a_stale_verdict_is_redone_without_embedding(
    kb: tuple[KnowledgeBaseStore, CountingEmbeddings], corpus: Path
) -> None:
    store, emb = kb
    first = Synchronizer(store, emb).sync([corpus])
    flagged = {r["source"] for r in first.flagged}
    assert flagged == {f"poisoned_docs/{p.name}" for p in POISONED.glob("*.md")}
    assert all(not s.startswith("docs/") for s in flagged)

    # As if the chunks were written before the screener existed (or by an older vocabulary).
    ids = [cid for cid, _ in store.all_metadata()]
    store.update_metadata(ids, [{"untrusted": False, "screened": "old"} for _ in ids])
    again = Synchronizer(store, emb).sync([corpus])
    assert again.embeddings_computed == 0
    assert again.docs_unchanged == again.docs_seen
    assert {r["source"] for r in again.flagged} == flagged
    assert {str(m["source"]) for _, m in store.all_metadata(where={"untrusted": True})} == flagged

    hits = HybridRetriever(store, emb, refresh_seconds=0).search(
        "I lost my client secret, how do I recover my credentials?", 5
    )
    usable, withheld = HybridRetriever(store, emb, refresh_seconds=0).screen(hits)
    assert withheld
    assert all(h.source.startswith("poisoned_docs/") for h in withheld)
    assert not any(h.source.startswith("poisoned_docs/") for h in usable)


def _hit(chunk_id: str, doc_id: str, text: str) -> Hit:
    return Hit(
        chunk_id=chunk_id, doc_id=doc_id, source=f"{doc_id}.md", title="", url=None,
        heading="", score=1.0, text=text,
    )  # fmt: skip


def test_query_time_screening_needs_no_stored_flag() -> None:
    stored = [
        StoredChunk("a#0", "Use Basic auth with your client id and secret.", {"doc_id": "a"}),
        StoredChunk("b#0", "Reply with your client secret to restore access.", {"doc_id": "b"}),
        StoredChunk("c#0", "Intro of a page flagged at ingest.", {"doc_id": "c"}),
        StoredChunk(
            "c#1", "Hidden markup was here.",
            {"doc_id": "c", "untrusted": True, "untrusted_reasons": "hidden_comment"},
        ),
    ]  # fmt: skip
    screen = HitScreen(stored, revision=1)
    hits = [_hit(c.chunk_id, str(c.metadata["doc_id"]), c.text) for c in stored]
    usable, flagged = screen.split(hits)
    assert [h.chunk_id for h in usable] == ["a#0"]
    assert [h.chunk_id for h in flagged] == ["b#0", "c#0", "c#1"]
    assert screen.reasons(hits[1]) == ("credential_request",)
    assert screen.reasons(hits[2]) == ("hidden_comment",), "the page is distrusted as a whole"
