"""Latency of the offline `ask` path over a 10k-chunk index, beside a bare retrieval query.

The index holds corpus_grid + corpus_stellar + corpus_btcpay (≈ 10k+ chunks).  Messages
cycle through evals/datasets/grid_dev.jsonl.  Goal: ask p50 <= 30 ms, p99 <= 100 ms.
Pass --data-dir to reuse an index between runs (ingest is skipped when unchanged).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from _common import REPO, SHARED_DATA, percentile, print_table

from app.knowledge import build_knowledge_base
from app.services.pipelines import build_pipeline
from app.settings import Settings
from evals.datasets.loader import load_jsonl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    corpora = [SHARED_DATA / n for n in ("corpus_grid", "corpus_stellar", "corpus_btcpay")]
    messages = [i.message for i in load_jsonl(REPO / "evals/datasets/grid_dev.jsonl")]

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        settings = Settings(
            data_dir=data_dir, openapi_specs=[SHARED_DATA / "corpus_grid/openapi.yaml"]
        )
        kb = build_knowledge_base(settings, refresh_seconds=3600)
        ingest = kb.synchronizer().sync(corpora)
        chunks = kb.store.count()
        pipeline = build_pipeline(settings, kb)
        for message in messages[:5]:  # warm-up: models, BM25 index, classifier cache
            pipeline.run(message)

        retrieval_ms: list[float] = []
        ask_ms: list[float] = []
        started = time.perf_counter()
        # Every request is a message never seen before, as in real traffic: the
        # embedding cache may only serve what one ask embeds twice, not repeats.
        for i in range(args.requests):
            message = f"{messages[i % len(messages)]} (ref {i})"
            t0 = time.perf_counter()
            pipeline.run(message)
            ask_ms.append((time.perf_counter() - t0) * 1000)
        ask_wall = time.perf_counter() - started
        for i in range(args.requests):
            t0 = time.perf_counter()
            kb.retriever.search(f"{messages[i % len(messages)]} (query {i})", 5)
            retrieval_ms.append((time.perf_counter() - t0) * 1000)

    figures = {
        "chunks_in_index": chunks,
        "ingest_seconds": round(ingest.seconds, 1),
        "requests": args.requests,
        "ask_p50_ms": round(statistics.median(ask_ms), 1),
        "ask_p99_ms": round(percentile(ask_ms, 0.99), 1),
        "ask_throughput_per_s": round(args.requests / ask_wall, 1),
        "retrieval_p50_ms": round(statistics.median(retrieval_ms), 1),
        "retrieval_p99_ms": round(percentile(retrieval_ms, 0.99), 1),
    }
    print_table(
        "bench/triage.py (offline ask, single process)", [(k, str(v)) for k, v in figures.items()]
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
