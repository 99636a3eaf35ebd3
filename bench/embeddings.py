"""The two local MiniLM backends side by side: bulk texts/s and one-query latency.

Texts are real corpus_grid chunks (loaded and chunked as ingest does, not embedded
through the knowledge base); queries are the dev-set messages.  Prints, per backend:
texts/s over the chunk sample, p50/p99 of a single `embed_query` (what every `ask`
pays), and the largest difference between the backends' vectors.

    python bench/embeddings.py [--texts 800] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import GRID, REPO, print_table

from evals.datasets.loader import load_jsonl
from ingest.chunking import chunk_markdown
from ingest.embeddings import LocalMiniLMEmbeddings
from ingest.loaders import load_file


def chunk_texts(limit: int) -> list[str]:
    texts: list[str] = []
    for path in sorted((GRID / "docs").rglob("*.md")):
        for doc in load_file(path, GRID, max_bytes=10_000_000):
            texts += [c.text for c in chunk_markdown(doc.doc_id, doc.text)]
    unique = list(dict.fromkeys(texts))
    random.Random(0).shuffle(unique)
    return unique[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=800)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    texts = chunk_texts(args.texts)
    queries = [i.message for i in load_jsonl(REPO / "evals/datasets/grid_dev.jsonl")]
    figures: dict[str, dict[str, float]] = {}
    vectors: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ("onnx", "torch"):
            # No cache: every query must reach the model.
            model = LocalMiniLMEmbeddings(
                cache_dir=Path(tmp),
                backend=backend,  # type: ignore[arg-type]
                threads=args.threads,
                recent_cache_size=0,
            )
            model.embed_query("warm-up: export and load the model before timing")
            started = time.perf_counter()
            vectors[backend] = np.asarray(model.embed_documents(texts))
            bulk = len(texts) / (time.perf_counter() - started)
            latencies = []
            for query in queries * 2:
                t0 = time.perf_counter()
                model.embed_query(query)
                latencies.append((time.perf_counter() - t0) * 1000)
            latencies.sort()
            figures[backend] = {
                "texts_per_s": round(bulk, 1),
                "query_p50_ms": round(statistics.median(latencies), 2),
                "query_p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))], 2),
            }
    onnx, torch = figures["onnx"], figures["torch"]
    figures["onnx_vs_torch"] = {
        "bulk_speed_ratio": round(onnx["texts_per_s"] / torch["texts_per_s"], 2),
        "query_latency_ratio": round(torch["query_p50_ms"] / onnx["query_p50_ms"], 2),
        "max_abs_vector_diff": float(np.abs(vectors["onnx"] - vectors["torch"]).max()),
    }
    print_table(
        f"bench/embeddings.py ({len(texts)} chunk texts, {len(queries)} queries x2)",
        [(k, json.dumps(v)) for k, v in figures.items()],
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
