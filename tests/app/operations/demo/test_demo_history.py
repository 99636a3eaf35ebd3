"""`triage demo history` on SQLite: deterministic for a seed, seasonal as documented,
labelled, marked as demo data, and acted on by the scripted team through the services."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.knowledge import KnowledgeBase
from app.operations.demo.history import DemoHistoryError, HistoryRequest, write_history
from app.operations.demo.marker import read_marker
from app.services.runtime import Pipeline
from app.settings import Settings
from app.store import create_engine_for
from app.store.askers import AskerTicket
from app.store.conversations import TicketLink, TicketMessage
from app.store.models import OutboxMessage, ReviewEvent, Ticket
from app.store.self_service import SelfServiceAnswer
from tests.app.operations.conftest import (
    DAYS,
    END,
    SEED,
    WrittenHistory,
    read_store,
    small_config,
    write_small_history,
)

pytestmark = pytest.mark.slow


def _fingerprint(session: Session) -> dict[str, Any]:
    """Everything of the history but the generated ids."""
    tickets = session.scalars(select(Ticket).order_by(Ticket.created_at, Ticket.message)).all()
    events = session.execute(
        select(
            ReviewEvent.created_at,
            ReviewEvent.action,
            ReviewEvent.reason_code,
            ReviewEvent.edit_distance,
        ).order_by(ReviewEvent.created_at, ReviewEvent.action)
    ).all()
    messages = session.execute(
        select(TicketMessage.created_at, TicketMessage.kind, TicketMessage.event).order_by(
            TicketMessage.created_at, TicketMessage.kind, TicketMessage.event
        )
    ).all()
    # The help page's answers and askers' tickets (asker keys differ: each database has its
    # own hashing key).
    answers = session.execute(
        select(
            SelfServiceAnswer.created_at,
            SelfServiceAnswer.question,
            SelfServiceAnswer.feedback,
            SelfServiceAnswer.feedback_at,
        ).order_by(SelfServiceAnswer.created_at, SelfServiceAnswer.question)
    ).all()
    askers = sorted(session.scalars(select(AskerTicket.created_at)))
    return {
        "answers": [tuple(a) for a in answers],
        "askers": askers,
        "tickets": [
            (
                t.created_at,
                t.channel,
                t.reporter,
                t.message,
                t.category,
                t.priority,
                t.status,
                t.meta,
            )
            for t in tickets
        ],
        "events": [tuple(e) for e in events],
        "messages": [tuple(m) for m in messages],
    }


def test_the_same_seed_writes_the_same_history(
    demo_history: WrittenHistory,
    tmp_path: Path,
    kb_settings: Settings,
    kb: KnowledgeBase,
    pipeline: Pipeline,
) -> None:
    again = write_small_history(tmp_path, kb_settings, kb, pipeline, "again")
    assert again.report.operations == demo_history.report.operations
    first = read_store(demo_history.url, _fingerprint)
    second = read_store(again.url, _fingerprint)
    assert first["tickets"] == second["tickets"]
    assert first["events"] == second["events"]
    assert first["messages"] == second["messages"]
    assert first["answers"] == second["answers"]
    assert first["askers"] == second["askers"]


def test_the_history_has_the_documented_weekly_and_daily_shape(
    demo_history: WrittenHistory,
) -> None:
    created = read_store(
        demo_history.url,
        lambda s: list(s.scalars(select(Ticket.created_at))),
    )
    assert len(created) == demo_history.report.tickets > 50
    days = Counter(c.date() for c in created)
    assert len(set(days)) <= DAYS
    weekday = [n for d, n in days.items() if d.weekday() < 5]
    weekend = [n for d, n in days.items() if d.weekday() >= 5]
    # Documented factors: weekdays 0.88–1.18, weekends 0.30–0.36 of the base rate.
    assert sum(weekend) / len(weekend) < 0.6 * sum(weekday) / len(weekday)
    hours = Counter(c.hour for c in created)
    night = sum(hours[h] for h in range(0, 6))
    office = sum(hours[h] for h in range(9, 17))
    assert night < 0.15 * len(created) < office


def test_every_ticket_carries_its_label_and_the_store_is_marked_as_demo(
    demo_history: WrittenHistory,
) -> None:
    def look(session: Session) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        metas = [t["demo"] for t in session.scalars(select(Ticket.meta))]
        return metas, read_marker(session)

    labels, marker = read_store(demo_history.url, look)
    assert marker is not None
    assert (marker["days"], marker["seed"], marker["tickets"]) == (DAYS, SEED, len(labels))
    assert marker["start"] == "2026-03-02"
    assert marker["end"] == END.isoformat()
    for label in labels:
        assert {"category", "priority", "answerable", "documented", "corpus", "source"} <= set(
            label
        )
        assert label["documented"] is False or label["answerable"] is True
    sources = Counter(label["source"] for label in labels)
    assert sources["grid"] > len(labels) / 2
    assert any(label.get("incident") is not None for label in labels)


def test_the_scripted_team_acted_through_the_services(demo_history: WrittenHistory) -> None:
    def look(session: Session) -> dict[str, Any]:
        return {
            "status": Counter(session.scalars(select(Ticket.status))),
            "reviews": Counter(session.scalars(select(ReviewEvent.action))),
            "events": Counter(
                session.scalars(select(TicketMessage.event).where(TicketMessage.kind == "system"))
            ),
            "agent_messages": len(
                list(session.scalars(select(TicketMessage.id).where(TicketMessage.kind == "agent")))
            ),
            "outbox": Counter(session.scalars(select(OutboxMessage.status))),
            "links": len(list(session.scalars(select(TicketLink.id)))),
        }

    seen = read_store(demo_history.url, look)
    ops = demo_history.report.operations
    assert seen["status"]["solved"] > 0
    assert seen["reviews"]["approve"] + seen["reviews"]["edit"] > 0
    assert seen["reviews"]["reject"] == ops["reject"]
    assert seen["events"]["assigned"] >= ops["take"]
    # Handwritten replies are agent messages; a follow-up is answered by hand or by
    # approving its new draft.
    assert ops["write"] <= seen["agent_messages"] <= ops["write"] + ops["respond"]
    # Every approved reply left through the outbox at its own instant.
    assert set(seen["outbox"]) == {"sent"}
    assert seen["links"] == ops["link"]
    assert demo_history.report.pipeline_reused > 0


def test_the_stats_read_every_ticket_of_the_history(demo_history: WrittenHistory) -> None:
    """A history lies in the past: its metric facts are copied once at the end, so
    GET /v1/stats counts every ticket (the refresher looks only at recent changes)."""
    from datetime import UTC, datetime, timedelta

    from app.operations.metrics.stats import StatsService

    engine = create_engine_for(demo_history.url)
    try:
        end = datetime.combine(END, datetime.min.time(), tzinfo=UTC)
        # No refresh at reading: the facts are there already.
        service = StatsService(engine, refresh_limit=0)
        stats = service.stats(end - timedelta(days=DAYS), end, "week")
    finally:
        engine.dispose()
    assert stats.totals.tickets.opened == demo_history.report.tickets
    assert stats.totals.drafts.total > 0
    assert stats.totals.agents is not None
    assert stats.totals.agents.actions > 0
    assert "metrics" in demo_history.report.seconds


def test_a_database_with_tickets_is_refused(
    demo_history: WrittenHistory, kb: KnowledgeBase, pipeline: Pipeline
) -> None:
    request = HistoryRequest(days=3, seed=1, end=END, config=small_config(), eval_dir=None)
    with pytest.raises(DemoHistoryError, match="already holds"):
        write_history(demo_history.settings, request, kb=kb, pipeline=pipeline)
