"""The metric fact tables hold exactly their views' rows, and follow changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text, update

from app.operations.metrics.refresh import (
    ACTION_COLUMNS,
    DRAFT_COLUMNS,
    TICKET_COLUMNS,
    rebuild,
    refresh_stale,
    refresh_tickets,
    stale_tickets,
)
from app.store import reviews
from app.store.conversations import TicketState
from app.store.db import session_factory
from app.store.metric_facts import MetricTicketFact
from tests.app.operations.metric_fixture import query

COPIES = [
    ("metric_ticket_facts", "metric_tickets", TICKET_COLUMNS, "ticket_id"),
    ("metric_draft_facts", "metric_draft_outcomes", DRAFT_COLUMNS, "draft_id"),
    ("metric_action_facts", "metric_agent_actions", ACTION_COLUMNS, "action_id"),
]


def _same_as_views(engine: Engine) -> None:
    for facts, view, columns, key in COPIES:
        stored = query(engine, f"SELECT {columns} FROM {facts} ORDER BY {key}")
        computed = query(engine, f"SELECT {columns} FROM {view} ORDER BY {key}")
        assert stored == computed, facts
        assert stored


def test_refresh_copies_every_view_row(loaded: Engine) -> None:
    assert refresh_stale(loaded) == 6
    _same_as_views(loaded)
    assert refresh_stale(loaded) == 0  # nothing changed since


def _gaps_as_the_view(engine: Engine) -> None:
    stored = query(engine, "SELECT action_id, gap_seconds FROM metric_action_facts ORDER BY 1")
    computed = query(
        engine, "SELECT action_id, gap_seconds FROM metric_agent_handle_times ORDER BY 1"
    )
    assert stored == computed
    assert any(r["gap_seconds"] is not None for r in stored)


def test_gaps_match_the_handle_time_view_whatever_the_refresh_order(loaded: Engine) -> None:
    with loaded.begin() as conn:
        # Newest ticket first: each earlier action arrives after the one that follows it.
        for ticket in ("tkt_03", "tkt_02", "tkt_01"):
            refresh_tickets(conn, [ticket], datetime.now(UTC))
    _gaps_as_the_view(loaded)
    rebuild(loaded)
    _gaps_as_the_view(loaded)


def test_rebuild_gives_the_same_rows(loaded: Engine) -> None:
    rebuild(loaded)
    _same_as_views(loaded)
    with loaded.connect() as conn:
        assert stale_tickets(conn, 100) == []


def test_a_change_makes_only_its_ticket_stale(loaded: Engine) -> None:
    refresh_stale(loaded)
    with session_factory(loaded).begin() as session:
        reviews.approve(session, "drf_8", reviewer="tok_B:bob", text="Edited by bob.")
    with loaded.connect() as conn:
        assert stale_tickets(conn, 100) == ["tkt_05"]
    assert refresh_stale(loaded) == 1
    _same_as_views(loaded)
    [row] = query(loaded, "SELECT outcome FROM metric_draft_facts WHERE draft_id = 'drf_8'")
    assert row == {"outcome": "edited"}


def test_a_conversation_state_change_makes_its_ticket_stale(loaded: Engine) -> None:
    refresh_stale(loaded)
    with session_factory(loaded).begin() as session:
        session.execute(
            update(TicketState)
            .where(TicketState.ticket_id == "tkt_06")
            .values(assignee="alice", updated_at=datetime.now(UTC))
        )
    assert refresh_stale(loaded) == 1
    [row] = query(loaded, "SELECT assignee FROM metric_ticket_facts WHERE ticket_id = 'tkt_06'")
    assert row == {"assignee": "alice"}


def test_facts_are_rechecked_when_a_stored_due_time_passes(loaded: Engine) -> None:
    refresh_stale(loaded)
    rechecks = query(
        loaded,
        "SELECT ticket_id, recheck_at FROM metric_ticket_facts WHERE recheck_at IS NOT NULL "
        "ORDER BY ticket_id",
    )
    # Only due times still ahead count: tkt_05's resolution, tkt_06's next response.
    assert rechecks == [
        {"ticket_id": "tkt_05", "recheck_at": "2999-01-01T00:00:00Z"},
        {"ticket_id": "tkt_06", "recheck_at": "2999-01-01T00:00:00Z"},
    ]
    passed = datetime.now(UTC) - timedelta(minutes=1)
    with session_factory(loaded).begin() as session:
        session.execute(
            update(MetricTicketFact)
            .where(MetricTicketFact.ticket_id == "tkt_06")
            .values(recheck_at=passed)
        )
    with loaded.connect() as conn:
        assert stale_tickets(conn, 100) == ["tkt_06"]


def test_deleting_a_ticket_deletes_its_facts(loaded: Engine) -> None:
    refresh_stale(loaded)
    with loaded.begin() as conn:
        conn.execute(text("DELETE FROM tickets WHERE id = 'tkt_02'"))
    for facts, _, _, _ in COPIES:
        assert query(loaded, f"SELECT COUNT(*) AS n FROM {facts} WHERE ticket_id = 'tkt_02'") == [
            {"n": 0}
        ]
