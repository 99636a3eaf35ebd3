from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from ingest.embeddings import CountingEmbeddings
from ingest.retrieval import HybridRetriever
from ingest.sync import ChunkingOptions, Synchronizer
from ingest.vectorstore import EmbeddingMismatchError, KnowledgeBaseStore

REPO = Path(__file__).resolve().parents[2]


def _store(path: Path, model: str = "all-MiniLM-L6-v2", dim: int = 384) -> KnowledgeBaseStore:
    client = chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    return KnowledgeBaseStore(client, "docs", model_name=model, dimension=dim)


@pytest.fixture
def kb(tmp_path: Path, minilm: Any) -> tuple[KnowledgeBaseStore, CountingEmbeddings]:
    emb = CountingEmbeddings(minilm, model_name="all-MiniLM-L6-v2", dimension=384)
    return _store(tmp_path / "chroma"), emb


def assert_consistent(store: KnowledgeBaseStore) -> Counter[str]:
    """No duplicates, no orphans: each doc has exactly its recorded chunks, one version."""
    per_doc: dict[str, list[dict[str, Any]]] = {}
    for _cid, meta in store.all_metadata():
        per_doc.setdefault(str(meta["doc_id"]), []).append(dict(meta))
    for doc_id, metas in per_doc.items():
        assert len({m["doc_hash"] for m in metas}) == 1, f"{doc_id} mixes versions"
        assert len(metas) == metas[0]["n_chunks"], f"{doc_id} has missing or extra chunks"
        assert sorted(m["chunk_index"] for m in metas) == list(range(len(metas)))
    return Counter({d: len(m) for d, m in per_doc.items()})


def test_first_sync_then_unchanged_run_costs_nothing(kb: Any, grid_sample: Path) -> None:
    store, emb = kb
    n = len(list(grid_sample.rglob("*.md")))
    first = Synchronizer(store, emb).sync([grid_sample])
    assert first.docs_added == first.docs_seen == n
    assert first.docs_failed == 0
    assert first.embeddings_computed > 0
    assert store.count() == first.chunks_written
    assert_consistent(store)

    before = emb.texts_embedded
    second = Synchronizer(store, emb).sync([grid_sample])
    assert second.docs_unchanged == second.docs_seen == n
    assert second.embeddings_computed == 0
    assert emb.texts_embedded == before
    assert second.chunks_written == second.chunks_deleted == 0


def test_a_new_chunker_or_chunk_settings_rechunk_unchanged_files(
    kb: Any, grid_sample: Path
) -> None:
    store, emb = kb
    n = len(list(grid_sample.rglob("*.md")))
    Synchronizer(store, emb).sync([grid_sample])
    # Chunks stored by an older chunker: same files, other chunking signature.
    ids = [cid for cid, _ in store.all_metadata()]
    metas = [{**meta, "chunking": "v1"} for _, meta in store.all_metadata()]
    store.update_metadata(ids, metas)
    before = emb.texts_embedded
    again = Synchronizer(store, emb).sync([grid_sample])
    assert again.docs_updated == n
    assert again.docs_unchanged == 0
    assert emb.texts_embedded == before  # the same chunk texts keep their embeddings
    assert_consistent(store)
    smaller = Synchronizer(store, emb, chunking=ChunkingOptions(max_tokens=120)).sync([grid_sample])
    assert smaller.docs_updated == n
    assert_consistent(store)


def test_contract_ids_and_urls(kb: Any, grid_sample: Path) -> None:
    store, emb = kb
    Synchronizer(store, emb).sync([grid_sample])
    metas = [
        m
        for _, m in store.all_metadata(where={"doc_id": "docs/guides/api-reference/authentication"})
    ]
    assert metas, "doc_id must be the path relative to the root without extension"
    assert metas[0]["source"] == "docs/guides/api-reference/authentication.md"
    assert str(metas[0]["url"]).startswith(
        "https://docs.lightspark.com/api-reference/authentication"
    )


def test_edit_reembeds_only_what_changed(kb: Any, grid_sample: Path) -> None:
    store, emb = kb
    Synchronizer(store, emb).sync([grid_sample])
    page = grid_sample / "docs/guides/platform-overview/core-concepts/quote-system.md"
    n_before = len(store.all_metadata(where={"source": page.relative_to(grid_sample).as_posix()}))
    page.write_text(
        page.read_text()
        + "\n\n## Zebra fees\n\nQuotes for zebra payouts carry a striped surcharge.\n"
    )
    report = Synchronizer(store, emb).sync([grid_sample])
    assert report.docs_updated == 1
    assert report.docs_unchanged == len(list(grid_sample.rglob("*.md"))) - 1
    assert 0 < report.embeddings_computed < n_before
    assert_consistent(store)
    hits = HybridRetriever(store, emb, refresh_seconds=0).search(
        "striped surcharge zebra payouts", 3
    )
    assert hits[0].doc_id.endswith("quote-system")


def test_deleted_page_is_pruned_and_renamed_page_reuses_embeddings(
    kb: Any, grid_sample: Path
) -> None:
    store, emb = kb
    Synchronizer(store, emb).sync([grid_sample])
    (grid_sample / "docs/guides/api-reference/environments.md").unlink()
    auth = grid_sample / "docs/guides/api-reference/authentication.md"
    auth.rename(auth.with_name("auth-basics.md"))
    report = Synchronizer(store, emb).sync([grid_sample])
    assert report.docs_deleted == 2
    assert report.docs_added == 1
    assert report.embeddings_computed == 0, "a rename must not re-embed unchanged text"
    docs = assert_consistent(store)
    assert "docs/guides/api-reference/environments" not in docs
    assert "docs/guides/api-reference/authentication" not in docs
    assert "docs/guides/api-reference/auth-basics" in docs


def test_broken_file_is_reported_and_keeps_its_old_chunks(kb: Any, grid_sample: Path) -> None:
    store, emb = kb
    Synchronizer(store, emb).sync([grid_sample])
    page = grid_sample / "docs/guides/api-reference/sandbox-testing.md"
    source = page.relative_to(grid_sample).as_posix()
    kept = len(store.all_metadata(where={"source": source}))
    page.write_bytes(b"\x00\x01binary garbage\xff" * 100)
    report = Synchronizer(store, emb).sync([grid_sample])
    assert report.docs_failed == 1
    assert report.failures[0]["source"] == source
    assert report.docs_deleted == 0
    assert len(store.all_metadata(where={"source": source})) == kept


def test_crash_between_write_and_delete_is_repaired(
    kb: Any, grid_sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, emb = kb
    Synchronizer(store, emb).sync([grid_sample])
    page = grid_sample / "docs/guides/platform-overview/core-concepts/quote-system.md"
    page.write_text(page.read_text().replace("Quote", "Offer"))

    def crash(_ids: Any) -> int:
        raise KeyboardInterrupt("simulated crash after the new chunks were written")

    monkeypatch.setattr(store, "delete", crash)
    with pytest.raises(KeyboardInterrupt):
        Synchronizer(store, emb).sync([grid_sample])
    monkeypatch.undo()
    repaired = Synchronizer(store, emb).sync([grid_sample])
    assert repaired.docs_updated == 1
    assert repaired.embeddings_computed == 0, "the new chunks were already embedded and stored"
    assert_consistent(store)
    again = Synchronizer(store, emb).sync([grid_sample])
    assert again.chunks_written == again.chunks_deleted == again.embeddings_computed == 0


def test_embedding_model_mismatch_is_refused(kb: Any, grid_sample: Path, tmp_path: Path) -> None:
    store, emb = kb
    Synchronizer(store, emb).sync([grid_sample])
    other = _store(tmp_path / "chroma", model="text-embedding-3-small", dim=1536)
    with pytest.raises(EmbeddingMismatchError, match="all-MiniLM-L6-v2"):
        other.count()


_CHILD = """
import sys
from pathlib import Path
import chromadb
from chromadb.config import Settings
from ingest.embeddings import CountingEmbeddings, LocalMiniLMEmbeddings
from ingest.sync import Synchronizer
from ingest.vectorstore import KnowledgeBaseStore

corpus, chroma, models = map(Path, sys.argv[1:4])
client = chromadb.PersistentClient(path=str(chroma), settings=Settings(anonymized_telemetry=False))
store = KnowledgeBaseStore(client, "docs", model_name="all-MiniLM-L6-v2", dimension=384)
emb = CountingEmbeddings(LocalMiniLMEmbeddings(cache_dir=models, batch_size=8),
                         model_name="all-MiniLM-L6-v2", dimension=384)
def report(p):
    print(f"chunks={p.chunks_written}", flush=True)
Synchronizer(store, emb, progress=report).sync([corpus])
print("done", flush=True)
"""


@pytest.mark.slow
def test_kill_9_mid_ingest_leaves_a_repairable_index(
    kb: Any, grid_root: Path, tmp_path: Path, models_dir: Path, minilm: Any
) -> None:
    import shutil

    minilm.embed_query("warm up")  # make sure the ONNX export exists before the child starts
    corpus = tmp_path / "big"
    pages = sorted((grid_root / "docs" / "guides").rglob("*.md"))[:40]
    for src in pages:
        dst = corpus / src.relative_to(grid_root)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    chroma = tmp_path / "chroma"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(corpus), str(chroma), str(models_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    killed_at = None
    for line in child.stdout:
        if line.startswith("chunks=") and int(line.split("=")[1]) >= 150:
            os.kill(child.pid, signal.SIGKILL)
            killed_at = int(line.split("=")[1])
            break
    child.wait(timeout=120)
    assert killed_at is not None, "the child finished before it could be killed"

    store, emb = kb
    repaired = Synchronizer(store, emb).sync([corpus])
    assert repaired.docs_failed == 0
    docs = assert_consistent(store)
    assert len(docs) == repaired.docs_seen == 40
    clean = Synchronizer(store, emb).sync([corpus])
    assert clean.docs_unchanged == 40
    assert clean.embeddings_computed == clean.chunks_written == clean.chunks_deleted == 0
