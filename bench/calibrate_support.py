"""Calibrate `TRIAGE_ANSWER_MIN_SUPPORT`: the best retrieved passage's similarity for
answerable dev questions versus off-topic probes, on the canonical Grid pages.

The threshold should sit below (nearly) every answerable question and above most
off-topic ones; in-domain unanswerable questions (a specific stuck payout) score like
answerable ones and are caught by the account-specific rules instead.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
from _common import REPO, canonical_grid_copy, print_table

from app.knowledge import build_knowledge_base
from app.settings import Settings
from evals.datasets.loader import load_jsonl

OFF_TOPIC = [
    "what is the best recipe for sourdough bread?",
    "who won the world cup in 2022?",
    "how do I configure an nginx reverse proxy for websockets?",
    "can you recommend a good python web framework?",
    "what is the capital of australia",
    "my laptop battery drains fast, any tips?",
    "how do I center a div in css",
    "explain kubernetes pod autoscaling",
]


def main() -> None:
    items = load_jsonl(REPO / "evals/datasets/grid_dev.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        corpus = canonical_grid_copy(Path(tmp) / "corpus")
        kb = build_knowledge_base(Settings(data_dir=Path(tmp) / "data"), refresh_seconds=3600)
        kb.synchronizer().sync([corpus])

        def best(question: str) -> float:
            return max((h.dense_score or 0.0) for h in kb.retriever.search(question, 5))

        answerable = np.array([best(i.message) for i in items if i.answerable])
        in_domain_unanswerable = np.array([best(i.message) for i in items if not i.answerable])
        off_topic = np.array([best(q) for q in OFF_TOPIC])
    figures = {
        "answerable_min": round(float(answerable.min()), 3),
        "answerable_p5": round(float(np.percentile(answerable, 5)), 3),
        "answerable_median": round(float(np.median(answerable)), 3),
        "in_domain_unanswerable_median": round(float(np.median(in_domain_unanswerable)), 3),
        "off_topic_max": round(float(off_topic.max()), 3),
        "off_topic_median": round(float(np.median(off_topic)), 3),
    }
    for threshold in (0.30, 0.35, 0.40):
        figures[f"at_{threshold:.2f}"] = {
            "answerable_handed_off": int((answerable < threshold).sum()),
            "off_topic_caught": f"{int((off_topic < threshold).sum())}/{len(off_topic)}",
        }
    print_table("bench/calibrate_support.py", [(k, json.dumps(v)) for k, v in figures.items()])
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
