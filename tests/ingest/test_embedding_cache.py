"""The opt-in document-vector cache: a text embedded once is read back, not embedded again,
by another data dir's knowledge base on the same host; nothing but a sync reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from app.knowledge import build_knowledge_base
from app.settings import Settings
from ingest.embedding_cache import CachedEmbeddings
from ingest.embeddings import CountingEmbeddings
from ingest.vector_disk import DiskVectors


def test_a_second_sync_of_the_same_pages_reads_the_vectors_back(
    tmp_path: Path, grid_sample: Path, models_dir: Path
) -> None:
    cache = tmp_path / "vectors"
    embedded = []
    for name in ("first", "second"):
        settings = Settings(
            data_dir=tmp_path / name, models_dir=models_dir, embedding_cache_dir=cache
        )
        kb = build_knowledge_base(settings, refresh_seconds=0)
        report = kb.synchronizer().sync([grid_sample])
        assert report.chunks_written > 0
        embedded.append(kb.embeddings.texts_embedded)
        assert kb.retriever.search("How do I authenticate API requests?", k=3)
        # A question is embedded by the model itself, never through the cache.
        before = kb.embeddings.texts_embedded
        kb.embeddings.embed_documents(["a question the cache never saw"])
        assert kb.embeddings.texts_embedded == before + 1
    assert embedded[0] > 0
    assert embedded[1] == 0, "every chunk text of the second sync was read back"


class _Queries(CountingEmbeddings):
    """Counts queries as well as documents."""

    queries = 0

    def embed_query(self, text: str) -> list[float]:
        self.queries += 1
        return super().embed_query(text)


def test_read_back_vectors_equal_the_models(tmp_path: Path, minilm: Any) -> None:
    texts = ["Rotate the client secret.", "Webhooks are signed.", "Rotate the client secret."]
    counting = _Queries(minilm, model_name="m", dimension=384)
    first = np.asarray(
        CachedEmbeddings(counting, DiskVectors(tmp_path / "v.sqlite")).embed_documents(texts)
    )
    assert counting.texts_embedded == 2, "each distinct text embedded once"
    # A fresh cache on the same file: the vectors come from disk, as another process reads them.
    fresh = CachedEmbeddings(counting, DiskVectors(tmp_path / "v.sqlite"))
    again = np.asarray(fresh.embed_documents(texts))
    assert counting.texts_embedded == 2
    model = np.asarray(minilm.embed_documents(texts))
    assert np.allclose(first, model, atol=1e-5)
    assert np.allclose(again, model, atol=1e-5)
    fresh.embed_query("Rotate the client secret.")
    fresh.embed_query("Rotate the client secret.")
    assert counting.queries == 2, "queries go to the model every time"
