"""A chunk deleted by another process never comes back as an empty hit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings

from ingest.vectorstore import KnowledgeBaseStore

REPO = Path(__file__).resolve().parents[2]


def test_a_chunk_pruned_by_another_process_is_not_a_ghost_hit(tmp_path: Path) -> None:
    path = tmp_path / "chroma"
    client = chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    store = KnowledgeBaseStore(client, "docs", model_name="test", dimension=3)
    store.upsert(
        ["keep", "pruned", "other"],
        [[1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.0, 1.0, 0.0]],
        ["kept text", "pruned text", "other text"],
        [{"doc_id": "keep"}, {"doc_id": "pruned"}, {"doc_id": "other"}],
    )
    assert [c.chunk_id for c, _ in store.query([1.0, 0.0, 0.0], 3)] == ["keep", "pruned", "other"]

    # Another process (an ingest run, another API worker) prunes the doc.
    prune = (
        "import chromadb; from chromadb.config import Settings as S; "
        f"c = chromadb.PersistentClient(path={str(path)!r}, "
        "settings=S(anonymized_telemetry=False)); "
        "c.get_collection('docs').delete(ids=['pruned'])"
    )
    subprocess.run([sys.executable, "-c", prune], check=True, cwd=REPO)

    hits = store.query([1.0, 0.0, 0.0], 3)
    assert [c.chunk_id for c, _ in hits] == ["keep", "other"]
    assert all(c.text and c.metadata.get("doc_id") for c, _ in hits)


def test_an_empty_collection_answers_with_no_hits(tmp_path: Path) -> None:
    # The query no longer counts the collection first (that count cost more than the
    # search at 100k chunks): an empty one, or one emptied by a prune, gives no hits.
    client = chromadb.PersistentClient(
        path=str(tmp_path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    store = KnowledgeBaseStore(client, "docs", model_name="test", dimension=3)
    assert store.query([1.0, 0.0, 0.0], 5) == []
    store.upsert(["only"], [[1.0, 0.0, 0.0]], ["only text"], [{"doc_id": "only"}])
    store.delete(["only"])
    assert store.query([1.0, 0.0, 0.0], 5) == []
