"""What weighing each block's meaning costs the offline `ask` path.

Runs every message of a dataset through the offline pipeline (screening, triage,
retrieval, drafting): without the drafter's block similarity (two passes), and with it —
first with no block vectors anywhere (cold), then as a restarted process finds them (an
empty memory cache, the vectors on disk from the first run), then with the memory cache
warm, as a long-running worker sees them.  Prints p50/p99 per pass.

    TRIAGE_DATA_DIR=<an ingested Grid index> python bench/draft_latency.py \\
        --dataset evals/datasets/grid_dev.jsonl
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _common import REPO, percentile, print_table

from app.knowledge import build_knowledge_base
from app.services.pipelines import build_pipeline
from app.settings import Settings
from app.triage.draft.semantic import BlockSimilarity
from evals.datasets.loader import load_jsonl
from ingest.vector_disk import DiskVectors


def _pass(pipeline: object, messages: list[str]) -> list[float]:
    timings = []
    for message in messages:
        started = time.perf_counter()
        pipeline.run(message)  # type: ignore[attr-defined]
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _timed(label: str, pipeline: object, messages: list[str]) -> tuple[str, str]:
    ms = _pass(pipeline, messages)
    return label, f"p50 {statistics.median(ms):7.1f} ms   p99 {percentile(ms, 0.99):7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=REPO / "evals/datasets/grid_dev.jsonl")
    args = parser.parse_args()
    settings = Settings()
    kb = build_knowledge_base(settings)
    messages = [item.message for item in load_jsonl(args.dataset)]
    rows: list[tuple[str, str]] = []
    plain = build_pipeline(settings, kb)
    plain.offline_drafter.similarity = None
    plain.warm()
    rows.append(_timed("without meaning, first pass", plain, messages))
    rows.append(_timed("without meaning, second pass", plain, messages))
    with tempfile.TemporaryDirectory() as scratch:
        # An empty block-vector file of its own, so the first pass is really cold.
        disk = Path(scratch) / "blocks.sqlite"
        for label in ("with meaning, cold cache", "with meaning, restarted (vectors on disk)"):
            pipeline = build_pipeline(settings, kb)
            pipeline.offline_drafter.similarity = BlockSimilarity(
                kb.embeddings.embed_documents, disk=DiskVectors(disk)
            )
            pipeline.warm()
            rows.append(_timed(label, pipeline, messages))
        rows.append(_timed("with meaning, warm memory cache", pipeline, messages))
    print_table(f"offline ask over {len(messages)} messages of {args.dataset.name}", rows)


if __name__ == "__main__":
    main()
