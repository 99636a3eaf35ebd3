"""The SLA sweep stores clocks for tickets no workflow action stored them for, with a
controlled clock, on both databases; the metrics then see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.conversations.policy import load_sla_policy
from app.ops.refresh import refresh_stale
from app.ops.sla_sweep import SlaSweeper, due_for_sweep
from app.ops.stats import StatsService
from app.store import reviews
from app.store.conversations import TicketState
from tests.app.conftest import Seeder

# P2 in the built-in policy: first response within 120 minutes, resolution within a day,
# around the clock.  Opened hours ago: the views compare open clocks with the real time.
OPENED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)


def _sweeper(sessions: sessionmaker[Session], at: datetime) -> SlaSweeper:
    return SlaSweeper(sessions, load_sla_policy(), clock=lambda: at)


def _state(sessions: sessionmaker[Session], ticket_id: str) -> TicketState:
    with sessions() as session:
        state = session.get(TicketState, ticket_id)
        assert state is not None
        return state


def test_a_ticket_without_clocks_gets_them_and_breaches_when_due(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    ticket = seed.ticket(priority="P2", created_at=OPENED).ticket_id

    assert _sweeper(sessions, OPENED + timedelta(minutes=10)).run_once() == 1
    state = _state(sessions, ticket)
    assert state.sla_first_response_due == OPENED + timedelta(minutes=120)
    assert not state.sla_breached
    with sessions() as session:
        assert due_for_sweep(session, OPENED + timedelta(minutes=60), 10) == []
        # Past the due time with no reply: swept again, now breached.
        assert due_for_sweep(session, OPENED + timedelta(minutes=130), 10) == [ticket]

    assert _sweeper(sessions, OPENED + timedelta(minutes=130)).run_once() == 1
    state = _state(sessions, ticket)
    assert state.sla_breached
    assert state.sla_first_response_breached
    assert state.version == 0  # no workflow change: agents' expected versions still hold


def test_a_reply_approved_in_time_meets_the_clock(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    seeded = seed.ticket(priority="P2", created_at=OPENED)
    assert seeded.draft_id is not None
    _sweeper(sessions, OPENED + timedelta(minutes=5)).run_once()
    with sessions.begin() as session:
        reviews.approve(
            session, seeded.draft_id, reviewer="tok_A:alice", now=OPENED + timedelta(minutes=30)
        )
    # The approval changed the ticket after its clocks were stored.
    with sessions() as session:
        assert due_for_sweep(session, OPENED + timedelta(minutes=31), 10) == [seeded.ticket_id]

    _sweeper(sessions, OPENED + timedelta(minutes=31)).run_once()
    state = _state(sessions, seeded.ticket_id)
    assert state.sla_first_response_due is None  # met
    assert not state.sla_first_response_breached
    with sessions() as session:
        assert due_for_sweep(session, OPENED + timedelta(minutes=300), 10) == []


def test_the_metrics_count_swept_clocks(
    engine: Engine, sessions: sessionmaker[Session], seed: Seeder
) -> None:
    late = seed.ticket(priority="P2", created_at=OPENED).ticket_id
    answered = seed.ticket(priority="P2", created_at=OPENED + timedelta(seconds=1))
    assert answered.draft_id is not None
    with sessions.begin() as session:
        reviews.approve(
            session, answered.draft_id, reviewer="tok_A:alice", now=OPENED + timedelta(minutes=20)
        )
    _sweeper(sessions, OPENED + timedelta(hours=3)).run_once()
    refresh_stale(engine)

    totals = StatsService(engine).stats(OPENED, OPENED + timedelta(hours=1), "priority").totals
    assert (totals.tickets.sla.tracked, totals.tickets.sla.breached) == (2, 1)
    assert totals.tickets.sla.first_response_breached == 1
    assert _state(sessions, late).sla_first_response_breached
