"""Local MiniLM embedding fanned out over worker processes (`triage ingest --workers N`).

Only the embedding is spread: each worker holds its own ONNX session and returns the
vectors of its share of a batch (dealt out by length), and the sync's own process still writes
every chunk in the same order as before.  So the crash-safety of the sync is unchanged:
a killed worker fails the batch before anything of it is written, and the next run
resumes from what Chroma holds.
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from ingest.embeddings import Backend, LocalMiniLMEmbeddings

# The model of this worker process (set by the pool's initializer, one per process).
_WORKER: dict[str, LocalMiniLMEmbeddings] = {}


def _start_worker(cache_dir: Path, batch_size: int, backend: Backend, threads: int) -> None:
    _WORKER["model"] = LocalMiniLMEmbeddings(
        cache_dir=cache_dir, batch_size=batch_size, backend=backend, threads=threads
    )


def _embed_slice(texts: list[str]) -> list[list[float]]:
    return _WORKER["model"].embed_documents(texts)


class EmbeddingPool(Embeddings):
    """`workers` processes embedding slices of each batch; queries stay in-process."""

    def __init__(
        self,
        *,
        cache_dir: Path,
        workers: int,
        batch_size: int = 64,
        backend: Backend = "onnx",
        threads_per_worker: int = 1,
    ) -> None:
        self.workers = workers
        self._batch_size = batch_size
        self._local = LocalMiniLMEmbeddings(
            cache_dir=cache_dir, batch_size=batch_size, backend=backend
        )
        self._args = (cache_dir, batch_size, backend, threads_per_worker)
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._local.embed_query("warm")  # exports the ONNX file once, before the workers
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=mp.get_context("spawn"),
                initializer=_start_worker,
                initargs=self._args,
            )
        return self._pool

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.workers <= 1 or len(texts) < 2 * self._batch_size:
            return self._local.embed_documents(texts)
        # Deal the texts out by length (shortest to longest, round-robin), not in contiguous
        # slices: a batch's long pages otherwise land on one worker and the rest wait for it.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        shares = [order[w :: self.workers] for w in range(self.workers)]
        out: list[list[float]] = [[] for _ in texts]
        slices = [[texts[i] for i in share] for share in shares]
        for share, vectors in zip(shares, self._executor().map(_embed_slice, slices), strict=True):
            for i, vector in zip(share, vectors, strict=True):
                out[i] = vector
        return out

    def embed_query(self, text: str) -> list[float]:
        return self._local.embed_query(text)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # A worker killed while writing its result leaves the result queue's lock held, and
        # the surviving workers block on it for ever; CPython 3.11's broken-pool handling
        # then joins them for ever (seen in the killed-worker test).  A broken pool has no
        # work left: kill its workers so its own manager thread can join them.
        if getattr(pool, "_broken", False):
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.kill()
        pool.shutdown(cancel_futures=True)

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter exit
        pool: Any = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
