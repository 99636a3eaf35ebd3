"""Does the knowledge-gap report put the truly undocumented topics first?

Builds a labelled history from the Grid dev sets: every row of grid_dev, grid_dev_b and
grid_triage_tune (the tune split) or grid_holdout and grid_holdout_c (the holdout split),
plus the paraphrases and es/pt renderings of tune rows, goes through the real service
path (TicketService: offline pipeline, store, auto-send gate off).  Widget rows are asked
through /v1/ask's path; an answer shown is marked helpful when it cites a gold page, not
helpful otherwise.  A scripted agent approves a draft citing a gold page and rejects any
other answer as inaccurate (hand-offs are left to the pipeline's own reason).  Then the
report runs and each topic is labelled by its questions' rows: undocumented when most
are `answerable: false` (the docs lack the answer).

Prints, per split: topics, precision@5 of the `docs_gap` topics (the share of the first
five that are truly undocumented), precision@5 of all topics ranked, and the `kind`
agreement (docs_gap for undocumented topics, retrieval_miss for the others).  --sweep
also tries other clustering distances and doc-match similarities on the tune split.

    python bench/gaps.py [--sweep] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from _common import SHARED_DATA, print_table
from _corpora import CORPORA, hybrid_index, prepare, settings_for

from app.insights.gaps import GapReport, GapReporter
from app.knowledge import KnowledgeBase
from app.observability import Metrics
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
    if split == "tune":  # the paraphrases and translations are of grid_dev rows
        by_id = {r.id: r for r in rows}
        for name, key in (("grid_paraphrases", "paraphrase_of"), ("grid_dev_es_pt", "source_id")):
            for item in load_jsonl(DATASETS / f"{name}.jsonl"):
                source = by_id.get(str((item.model_extra or {}).get(key)))
                if source is not None:
                    rows.append(
                        Row(item.id, item.message, source.channel, source.gold, source.answerable)
                    )
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


def _score(report: GapReport, owner: dict[str, Row]) -> dict[str, Any]:
    undocumented: list[bool] = []
    agree = 0
    for gap in report.gaps:
        members = [owner[i] for i in [*gap.ticket_ids, *gap.answer_ids] if i in owner]
        truly = sum(not r.answerable for r in members) * 2 > len(members)
        undocumented.append(truly)
        agree += (gap.kind == "docs_gap") == truly
    docs_gaps = [u for u, g in zip(undocumented, report.gaps, strict=True) if g.kind == "docs_gap"]
    top = docs_gaps[:5]
    return {
        "signals": report.questions,
        "topics": len(report.gaps),
        "undocumented_topics": sum(undocumented),
        "docs_gap_topics": len(docs_gaps),
        "precision_at_5_docs_gap": round(sum(top) / len(top), 3) if top else None,
        "precision_at_5_all": round(sum(undocumented[:5]) / min(5, len(undocumented)), 3)
        if undocumented
        else None,
        "kind_agreement": round(agree / len(report.gaps), 3) if report.gaps else None,
        "sources": dict(sum((Counter(g.sources) for g in report.gaps), Counter())),
    }


def run_split(
    split: str, settings: Settings, kb: KnowledgeBase, work: Path, sweep: bool
) -> dict[str, Any]:
    db = work / f"{split}.db"
    db.unlink(missing_ok=True)
    local = settings.model_copy(
        update={"database_url": f"sqlite:///{db}", "auto_send_min_confidence": None}
    )
    runtime = build_runtime(local, kb=kb)
    try:
        service = TicketService(runtime, Metrics(), pipeline_limiter=anyio.CapacityLimiter(1))
        rows = _rows(split)
        owner = _replay(service, runtime, rows)
        results: dict[str, Any] = {
            "rows": len(rows),
            "unanswerable_rows": sum(not r.answerable for r in rows),
            "default": _score(GapReporter(local, kb, runtime.sessions).report(), owner),
        }
        if sweep:
            for distance in (0.4, 0.5, 0.55, 0.6, 0.7):
                for match in (0.3, 0.35, 0.4, 0.45, 0.5):
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
    parser.add_argument("--sweep", action="store_true", help="try other thresholds (tune split)")
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
            split, settings, kb, args.cache_dir, args.sweep and split == "tune"
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
