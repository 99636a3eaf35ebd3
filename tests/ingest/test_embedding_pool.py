"""`triage ingest --workers N`: embedding fanned out, the sync's crash-safety unchanged."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ingest.embedding_pool import EmbeddingPool
from ingest.embeddings import CountingEmbeddings, LocalMiniLMEmbeddings
from ingest.lexical_store import LexicalStore
from ingest.sync import Synchronizer
from tests.ingest.test_sync import _store, assert_consistent

# Lengths vary and are not sorted, so dealing the texts out by length must put every
# vector back in its text's place.
TEXTS = [
    f"How do I rotate secret number {i} for webhook {i * 7}?" + " and retry" * ((i * 5) % 11)
    for i in range(40)
]


def test_workers_give_the_vectors_of_one_process(models_dir: Path, minilm: Any) -> None:
    minilm.embed_query("export once")  # the session's ONNX file, shared with the workers
    pool = EmbeddingPool(cache_dir=models_dir, workers=2, batch_size=8)
    try:
        pooled = np.asarray(pool.embed_documents(TEXTS))
    finally:
        pool.close()
    single = np.asarray(LocalMiniLMEmbeddings(cache_dir=models_dir).embed_documents(TEXTS))
    np.testing.assert_allclose(pooled, single, atol=1e-5)


class _KillsAWorker(EmbeddingPool):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        executor = self._executor()
        executor.submit(os.getpid).result()  # the workers are up
        os.kill(next(iter(executor._processes)), signal.SIGKILL)
        # Wait until the pool has noticed: submitting while it breaks races with its
        # replacement of the worker inside CPython (seen: "bad value(s) in fds_to_keep").
        deadline = time.monotonic() + 30
        while not executor._broken and time.monotonic() < deadline:
            time.sleep(0.05)
        return super().embed_documents(texts)


def test_a_killed_worker_loses_and_duplicates_nothing(
    tmp_path: Path, models_dir: Path, minilm: Any, grid_sample: Path
) -> None:
    minilm.embed_query("export once")
    store = _store(tmp_path / "chroma")
    lexical = LexicalStore(tmp_path / "lex", 2)

    def counted(pool: EmbeddingPool) -> CountingEmbeddings:
        return CountingEmbeddings(pool, model_name="all-MiniLM-L6-v2", dimension=384)

    killer = _KillsAWorker(cache_dir=models_dir, workers=2, batch_size=8)
    with pytest.raises(BrokenProcessPool):
        Synchronizer(store, counted(killer), lexical=lexical).sync([grid_sample])
    killer.close()
    pool = EmbeddingPool(cache_dir=models_dir, workers=2, batch_size=8)
    try:
        report = Synchronizer(store, counted(pool), lexical=lexical).sync([grid_sample])
    finally:
        pool.close()
    assert report.docs_failed == 0
    per_doc = assert_consistent(store)
    assert len(per_doc) == report.docs_seen
    assert {c.chunk_id for c in lexical.open(store.revision(), store.identity(), list).chunks} == {
        cid for cid, _ in store.all_metadata()
    }
