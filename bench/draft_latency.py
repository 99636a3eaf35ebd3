"""What weighing each block's meaning costs the offline `ask` path.

Runs every message of a dataset through the offline pipeline (screening, triage,
retrieval, drafting) twice in one process — the first pass with an empty block-vector
cache, the second with the blocks already embedded, as a long-running worker sees them —
once with the drafter's block similarity and once without it.  Prints p50/p99 per pass.

    TRIAGE_DATA_DIR=<an ingested Grid index> python bench/draft_latency.py \\
        --dataset evals/datasets/grid_dev.jsonl
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from _common import REPO, percentile, print_table

from app.knowledge import build_knowledge_base
from app.services.pipelines import build_pipeline
from app.settings import Settings
from evals.datasets.loader import load_jsonl


def _pass(pipeline: object, messages: list[str]) -> list[float]:
    timings = []
    for message in messages:
        started = time.perf_counter()
        pipeline.run(message)  # type: ignore[attr-defined]
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=REPO / "evals/datasets/grid_dev.jsonl")
    args = parser.parse_args()
    settings = Settings()
    kb = build_knowledge_base(settings)
    messages = [item.message for item in load_jsonl(args.dataset)]
    rows: list[tuple[str, str]] = []
    for label, keep_similarity in (("without meaning", False), ("with meaning", True)):
        pipeline = build_pipeline(settings, kb)
        if not keep_similarity:
            pipeline.offline_drafter.similarity = None
        pipeline.warm()
        for name in ("cold cache", "warm cache"):
            ms = _pass(pipeline, messages)
            rows.append(
                (
                    f"{label}, {name}",
                    f"p50 {statistics.median(ms):7.1f} ms   p99 {percentile(ms, 0.99):7.1f} ms",
                )
            )
    print_table(f"offline ask over {len(messages)} messages of {args.dataset.name}", rows)


if __name__ == "__main__":
    main()
