"""Embedding speed for bench/scale.py --embeddings: float vs int8 MiniLM, and ingest's
embedding step fanned out over N single-thread workers, on real chunk texts."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

from scale import base_chunks


def embedding_rates(models: Path, count: int, rounds: int = 3) -> list[tuple[str, str]]:
    """Float vs int8 ONNX MiniLM on real chunk texts (embed_text as the sync builds it)."""
    import numpy as np

    from ingest.embeddings import LocalMiniLMEmbeddings

    texts = [f"{c.metadata['title']}\n\n{c.text}" for c in base_chunks()[::7][:count]]
    backends = ("onnx", "onnx-int8")
    models_by_backend = {
        b: LocalMiniLMEmbeddings(cache_dir=models, backend=b, threads=2)  # type: ignore[arg-type]
        for b in backends
    }
    for model in models_by_backend.values():
        model.embed_documents(texts[:16])  # load (and export/quantise once)
    # Rounds alternate the backends, so a busy moment on a shared machine hits both alike;
    # each backend's median round is reported.
    rates: dict[str, list[float]] = {b: [] for b in backends}
    got: dict[str, Any] = {}
    for _ in range(rounds):
        for backend, model in models_by_backend.items():
            started = time.perf_counter()
            got[backend] = np.asarray(model.embed_documents(texts))
            rates[backend].append(len(texts) / (time.perf_counter() - started))
    rows = [
        (
            f"embed {b} chunks/s ({len(texts)} real chunks, 2 threads, median of {rounds})",
            f"{statistics.median(rates[b]):.1f}",
        )
        for b in backends
    ]
    ratio = statistics.median(rates["onnx-int8"]) / statistics.median(rates["onnx"])
    rows.append(("int8 / float chunks/s", f"{ratio:.2f}x"))
    cosine = (got["onnx"] * got["onnx-int8"]).sum(axis=1)
    rows.append(("int8 vs float cosine min / mean", f"{cosine.min():.4f} / {cosine.mean():.4f}"))
    rows += worker_rates(models, texts)
    return rows


def worker_rates(models: Path, texts: list[str]) -> list[tuple[str, str]]:
    """Ingest's embedding step fanned out (ingest/embedding_pool.py), float model."""
    from ingest.embedding_pool import EmbeddingPool
    from ingest.embeddings import LocalMiniLMEmbeddings

    # One worker is one single-thread ONNX session (what each of N workers runs), measured
    # in-process: a pool of one would hand the batch to the caller's own model.
    single = LocalMiniLMEmbeddings(cache_dir=models, threads=1)
    single.embed_documents(texts[:16])
    started = time.perf_counter()
    single.embed_documents(texts)
    one = len(texts) / (time.perf_counter() - started)
    rows = [("ingest embedding, 1 worker (1 thread): chunks/s", f"{one:.1f}")]
    for workers in sorted({2, os.cpu_count() or 2}):
        pool = EmbeddingPool(cache_dir=models, workers=workers, threads_per_worker=1)
        try:
            pool.embed_documents(texts[: 2 * 64 * workers])  # start and warm the workers
            started = time.perf_counter()
            pool.embed_documents(texts)
            rate = len(texts) / (time.perf_counter() - started)
        finally:
            pool.close()
        rows.append(
            (
                f"ingest embedding, {workers} workers (1 thread each): chunks/s, x one",
                f"{rate:.1f}, {rate / one:.2f}x",
            )
        )
    return rows
