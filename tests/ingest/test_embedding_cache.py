"""The opt-in document-vector cache: a text embedded once is read back, not embedded again,
by another data dir's knowledge base on the same host."""

from __future__ import annotations

from pathlib import Path

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
    reports = []
    for name in ("first", "second"):
        settings = Settings(
            data_dir=tmp_path / name, models_dir=models_dir, embedding_cache_dir=cache
        )
        kb = build_knowledge_base(settings, refresh_seconds=0)
        model = kb.embeddings.inner
        assert isinstance(model, CachedEmbeddings)
        before = model.inner.texts_embedded
        reports.append((kb.synchronizer().sync([grid_sample]), model.inner.texts_embedded - before))
        hits = kb.retriever.search("How do I authenticate API requests?", k=3)
        assert hits, "the second knowledge base answers from the read-back vectors"
    (first, embedded_first), (second, embedded_second) = reports
    assert first.chunks_written == second.chunks_written > 0
    assert embedded_first > 0
    assert embedded_second == 0, "every chunk text was read back"


def test_cached_vectors_equal_the_models_and_queries_are_not_cached(
    tmp_path: Path, minilm: object
) -> None:
    counting = CountingEmbeddings(minilm, model_name="m", dimension=384)  # type: ignore[arg-type]
    cached = CachedEmbeddings(counting, DiskVectors(tmp_path / "v.sqlite"))
    texts = ["Rotate the client secret.", "Webhooks are signed.", "Rotate the client secret."]
    first = np.asarray(cached.embed_documents(texts))
    again = np.asarray(cached.embed_documents(texts))
    assert counting.texts_embedded == 2, "each distinct text embedded once"
    assert np.allclose(first, again, atol=1e-6)
    assert np.allclose(first[0], first[2])
    cached.embed_query("Rotate the client secret.")
    cached.embed_query("Rotate the client secret.")
    assert counting.texts_embedded == 2
