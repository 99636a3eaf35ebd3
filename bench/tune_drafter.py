"""Tune the offline drafter's section weights on dev rows, then show them on others.

Runs the pipeline once per row (triage, retrieval), keeps each row's draft request,
and re-drafts it under every weight setting of a small grid; a setting is scored by
the automatic reading of its drafts (evals/score/usefulness.py): the share of
answerable rows whose draft answers, less the share of drafts with misleading content.
The best setting on --tune rows is then scored once on --measure rows.

    TRIAGE_DATA_DIR=... python bench/tune_drafter.py --tune evals/datasets/grid_dev.jsonl \
        --measure evals/datasets/grid_dev_b.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any

import _common  # noqa: F401  (puts the repo first on sys.path)

from app.knowledge import build_knowledge_base
from app.services.pipelines import build_pipeline
from app.settings import Settings
from app.triage.draft.offline import OfflineDrafter, SectionWeights
from app.triage.draft.phrases import all_phrases
from app.triage.draft.protocol import DraftRequest
from app.triage.pipeline import TriagePipeline
from evals.score.usefulness import read_draft


def _requests(pipeline: TriagePipeline, path: Path) -> list[tuple[dict[str, Any], DraftRequest]]:
    out = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if not row.get("answerable"):
            continue
        out.append((row, pipeline.draft_request(row["message"])))
    return out


def _score(
    drafter: OfflineDrafter, rows: list[tuple[dict[str, Any], DraftRequest]]
) -> dict[str, float]:
    answers = misleading = answered = 0
    for row, request in rows:
        draft = drafter.draft(request)
        if draft.needs_human:
            continue
        answered += 1
        reading = read_draft(
            message=request.question,
            reference=row["reference_answer"],
            draft=draft.text,
            cited_doc_ids=[c.doc_id for c in draft.citations],
            gold_doc_ids=row["gold_doc_ids"],
            framing=all_phrases(),
        )
        answers += reading.answers(True)
        misleading += reading.misleading
    n = len(rows) or 1
    return {
        "answers": answers / n,
        "misleading": misleading / (answered or 1),
        "objective": answers / n - 0.5 * misleading / (answered or 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tune", type=Path, required=True)
    parser.add_argument("--measure", type=Path)
    args = parser.parse_args()
    settings = Settings()
    kb = build_knowledge_base(settings)
    pipeline = build_pipeline(settings, kb)
    lookup = pipeline.offline_drafter.sections
    tune = _requests(pipeline, args.tune)
    measure = _requests(pipeline, args.measure) if args.measure else []
    grid = itertools.product((0.08, 0.2, 0.35), (0.0, 0.15, 0.3), (0.2, 0.35))
    results = []
    for rank, reference, heading in grid:
        weights = SectionWeights(rank=rank, reference=reference, heading=heading)
        drafter = OfflineDrafter(sections=lookup, weights=weights, min_answer_probability=0.0)
        results.append((_score(drafter, tune), weights))
        print(weights, results[-1][0], flush=True)
    best_score, best = max(results, key=lambda r: r[0]["objective"])
    print("best on tune rows:", best, best_score)
    default = OfflineDrafter(sections=lookup, min_answer_probability=0.0)
    print("current default on tune rows:", _score(default, tune))
    if measure:
        chosen = OfflineDrafter(sections=lookup, weights=best, min_answer_probability=0.0)
        print("best on measure rows:", _score(chosen, measure))
        print("current default on measure rows:", _score(default, measure))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
