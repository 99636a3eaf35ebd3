"""Does the knowledge-gap report put the truly undocumented topics first?

Builds a labelled history from the Grid dev sets: every row of grid_dev, grid_dev_b and
grid_triage_tune (the tune split) or grid_holdout and grid_holdout_c (the holdout split),
once each, goes through the real service path (TicketService: offline pipeline, store,
auto-send off).  Widget rows are asked through /v1/ask's path; an answer shown is marked
helpful when it cites a gold page, not helpful otherwise.  A scripted agent approves a
draft citing a gold page and rejects any other answer as inaccurate (hand-offs are left
to the pipeline's own reason).  Then the report runs and each topic is labelled by its
questions' rows: undocumented when most are `answerable: false` (the docs lack the
answer).  Paraphrases and translations are left out: only answerable rows have them, so
they would make answerable topics look more asked than undocumented ones.

Prints, per split: topics, precision@5 of the report's order (the share of the first five
topics that are truly undocumented), of the `docs_gap` topics, and of two other orders for
comparison (by volume; by distance from the docs alone), and the `kind` agreement
(docs_gap for undocumented topics, retrieval_miss for the others).  --sweep also tries
other clustering distances and doc-match similarities (chosen on the tune split).

    python bench/gaps.py [--sweep] [--reuse] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from _common import SHARED_DATA, print_table
from _corpora import CORPORA, hybrid_index, prepare, settings_for

from app.knowledge import KnowledgeBase
from app.observability import Metrics
from app.operations.gaps.report import Gap, GapReport, GapReporter
from app.services.runtime import Runtime, build_runtime
from app.services.tickets import NewTicket, TicketService
from app.settings import Settings
from app.store import reviews
from app.store.models import Draft
from evals.datasets.loader import EvalItem, load_jsonl

DATASETS = Path(__file__).resolve().parents[1] / "evals" / "datasets"
SPLITS = {
    "tune": ["grid_dev", "grid_dev_b", "grid_triage_tune"],
    "holdout": ["grid_holdout", "grid_holdout_c"],
}
AGENT = "bench:agent"


@dataclass(frozen=True)
class Row:
    id: str
    message: str
    channel: str
    gold: frozenset[str]
    answerable: bool


def _rows(split: str) -> list[Row]:
    items: dict[str, EvalItem] = {}
    for name in SPLITS[split]:
        for item in load_jsonl(DATASETS / f"{name}.jsonl"):
            items.setdefault(item.id, item)
    rows = [
        Row(i.id, i.message, i.channel or "api", frozenset(i.gold_doc_ids), bool(i.answerable))
        for i in items.values()
    ]
    return rows


def _cites_gold(draft_citations: list[dict[str, Any]], row: Row) -> bool:
    return any(c.get("doc_id") in row.gold for c in draft_citations)


def _replay(service: TicketService, runtime: Runtime, rows: list[Row]) -> dict[str, Row]:
    """Every row through the service; returns ticket/answer id -> row."""
    owner: dict[str, Row] = {}
    for row in rows:
        if row.channel == "widget":
            answer = service.answer_or_hand_off(row.message)
            if not answer.handed_off:
                assert answer.answer_id is not None
                cited = [c.model_dump() for c in answer.citations]
                service.answer_feedback(
                    answer.answer_id, helpful=row.answerable and _cites_gold(cited, row)
                )
                owner[answer.answer_id] = row
                continue
            assert answer.ticket_id is not None
            ticket_id = answer.ticket_id
        else:
            ticket_id = service.create_now(
                NewTicket(row.message, channel=row.channel), actor="bench"
            ).id
        owner[ticket_id] = row
        with runtime.sessions.begin() as session:
            draft = (
                session.query(Draft).filter_by(ticket_id=ticket_id, status="pending").one_or_none()
            )
            if draft is None or draft.needs_human:
                continue  # a hand-off: the pipeline's reason is the signal
            if row.answerable and _cites_gold(draft.citations, row):
                reviews.approve(session, draft.id, reviewer=AGENT)
            else:
                reviews.reject(session, draft.id, reviewer=AGENT, reason_code="inaccurate")
    return owner


def _precision_at_5(labels: list[bool]) -> float | None:
    top = labels[:5]
    return round(sum(top) / len(top), 3) if top else None


def _nearest(gap: Gap) -> float:
    return gap.nearest_docs[0].similarity if gap.nearest_docs else 0.0


def _score(report: GapReport, owner: dict[str, Row]) -> dict[str, Any]:
    """Each topic labelled by its questions' rows; precision@5 in the report's order and,
    for comparison, in two other orders of the same topics."""
    truly: dict[int, bool] = {}
    for index, gap in enumerate(report.gaps):
        members = [owner[i] for i in [*gap.ticket_ids, *gap.answer_ids] if i in owner]
        truly[index] = sum(not r.answerable for r in members) * 2 > len(members)
    order = list(range(len(report.gaps)))
    by_count = sorted(order, key=lambda i: -report.gaps[i].count)
    by_distance = sorted(order, key=lambda i: _nearest(report.gaps[i]))
    docs_gaps = [i for i in order if report.gaps[i].kind == "docs_gap"]
    agree = sum((report.gaps[i].kind == "docs_gap") == truly[i] for i in order)
    return {
        "signals": report.questions,
        "topics": len(order),
        "undocumented_topics": sum(truly.values()),
        "docs_gap_topics": len(docs_gaps),
        "precision_at_5_docs_gap": _precision_at_5([truly[i] for i in docs_gaps]),
        "precision_at_5_report_order": _precision_at_5([truly[i] for i in order]),
        "precision_at_5_by_count": _precision_at_5([truly[i] for i in by_count]),
        "precision_at_5_farthest_from_docs": _precision_at_5([truly[i] for i in by_distance]),
        "kind_agreement": round(agree / len(order), 3) if order else None,
        "sources": dict(sum((Counter(g.sources) for g in report.gaps), Counter())),
    }


def run_split(
    split: str, settings: Settings, kb: KnowledgeBase, work: Path, *, sweep: bool, reuse: bool
) -> dict[str, Any]:
    db = work / f"{split}.db"
    local = settings.model_copy(
        update={
            "database_url": f"sqlite:///{db}",
            "auto_send_min_confidence": None,
            # The widget shows docs-only drafts from this confidence (the service's default
            # shows none), so unhelpful self-service answers are part of the history.
            "ask_answer_min_confidence": 0.6,
        }
    )
    rows = _rows(split)
    saved = work / f"{split}.owner.json"
    if reuse and db.is_file() and saved.is_file():
        by_id = {r.id: r for r in rows}
        owner = {key: by_id[row_id] for key, row_id in json.loads(saved.read_text()).items()}
    else:
        db.unlink(missing_ok=True)
        owner = {}
    runtime = build_runtime(local, kb=kb)
    try:
        if not owner:
            service = TicketService(runtime, Metrics(), pipeline_limiter=anyio.CapacityLimiter(1))
            owner = _replay(service, runtime, rows)
            saved.write_text(json.dumps({key: row.id for key, row in owner.items()}))
        started = time.perf_counter()
        report = GapReporter(local, kb, runtime.sessions).report()
        seconds = round(time.perf_counter() - started, 2)
        results: dict[str, Any] = {
            "rows": len(rows),
            "unanswerable_rows": sum(not r.answerable for r in rows),
            "default": {**_score(report, owner), "report_seconds": seconds},
        }
        for rank, gap in enumerate(report.gaps[:5], start=1):
            members = [owner[i] for i in [*gap.ticket_ids, *gap.answer_ids] if i in owner]
            labels = ",".join("U" if not r.answerable else "a" for r in members)
            print(f"{split} #{rank} [{gap.kind}] {gap.topic} ({labels}) {gap.examples[0][:80]}")
        if sweep:
            for distance in (0.45, 0.55, 0.65):
                for match in (0.35, 0.4, 0.45, 0.5):
                    tried = local.model_copy(
                        update={
                            "gaps_cluster_distance": distance,
                            "gaps_doc_match_min_similarity": match,
                        }
                    )
                    score = _score(GapReporter(tried, kb, runtime.sessions).report(), owner)
                    results[f"d={distance} m={match}"] = score
        return results
    finally:
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench-gaps"
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="also try other thresholds (chosen on the tune split, shown for both)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="score the histories replayed by the last run"
    )
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    corpus = CORPORA["grid"]
    prepared = prepare(corpus, args.cache_dir)
    settings = settings_for(
        prepared, args.cache_dir, openapi_specs=[SHARED_DATA / "corpus_grid/openapi.yaml"]
    )
    kb, info = hybrid_index(prepared, settings)
    results: dict[str, Any] = {"index": info}
    for split in SPLITS:
        results[split] = run_split(
            split, settings, kb, args.cache_dir, sweep=args.sweep, reuse=args.reuse
        )
    rows = [
        (f"{split} {name}", json.dumps(score))
        for split in SPLITS
        for name, score in results[split].items()
        if isinstance(score, dict)
    ]
    print_table("bench/gaps.py", [("index", json.dumps(info)), *rows])
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
