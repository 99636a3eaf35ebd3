"""The knowledge-gap report on a demo history: are the truly undocumented topics first?

`triage demo history` labels every ticket it writes (`tickets.metadata.demo`), among them
`documented`: whether the docs in that data dir answer the replayed question.  This runs
the gap report over the whole history, labels each topic by its tickets (undocumented when
most of them are not documented) and prints precision@5 of the report's order — the share
of its first five topics that are truly undocumented — beside the order by volume alone.

    triage demo history --days 45 --data-dir DIR      # with the Grid docs ingested in DIR
    TRIAGE_DATA_DIR=DIR python bench/gaps_demo.py
"""

from __future__ import annotations

from collections.abc import Sequence

from _common import print_table
from sqlalchemy import func, select

from app.knowledge import build_knowledge_base
from app.operations.gaps.report import Gap, GapReporter
from app.services.database import prepare_database
from app.settings import Settings
from app.store.models import Ticket


def _undocumented(gap: Gap, documented: dict[str, bool | None]) -> bool | None:
    labels = [documented.get(t) for t in gap.ticket_ids]
    known = [label for label in labels if label is not None]
    if not known:
        return None
    return sum(1 for label in known if not label) > len(known) / 2


def _precision_at(gaps: Sequence[Gap], documented: dict[str, bool | None], k: int) -> str:
    labelled = [u for u in (_undocumented(g, documented) for g in gaps) if u is not None][:k]
    if not labelled:
        return "n/a"
    return f"{sum(labelled) / len(labelled):.2f} ({sum(labelled)} of {len(labelled)})"


def main() -> None:
    settings = Settings()
    engine, sessions = prepare_database(settings)
    try:
        with sessions() as session:
            start = session.scalar(select(func.min(Ticket.created_at)))
            documented: dict[str, bool | None] = {}
            for ticket_id, metadata in session.execute(select(Ticket.id, Ticket.meta)):
                demo = (metadata or {}).get("demo") or {}
                documented[ticket_id] = demo.get("documented")
        if start is None:
            raise SystemExit("no tickets: write a demo history first (triage demo history)")
        kb = build_knowledge_base(settings, refresh_seconds=0)
        report = GapReporter(settings, kb, sessions).report(start)
    finally:
        engine.dispose()
    gaps = report.gaps
    by_volume = sorted(gaps, key=lambda g: -g.count)
    undocumented_topics = sum(1 for g in gaps if _undocumented(g, documented))
    rows = [
        ("gap signals", str(report.questions)),
        ("topics", f"{len(gaps)} ({undocumented_topics} truly undocumented)"),
        ("precision@5, report order", _precision_at(gaps, documented, 5)),
        ("precision@5, by volume", _precision_at(by_volume, documented, 5)),
        ("precision@10, report order", _precision_at(gaps, documented, 10)),
    ]
    for gap in gaps[:5]:
        label = _undocumented(gap, documented)
        rows.append((f"  {gap.topic[:48]}", f"{gap.count} q, {gap.kind}, undocumented={label}"))
    print_table(f"knowledge gaps over the demo history since {start:%Y-%m-%d}", rows)


if __name__ == "__main__":
    main()
