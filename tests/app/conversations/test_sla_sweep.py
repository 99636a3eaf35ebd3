"""The SLA sweep with a controlled clock, on SQLite and PostgreSQL: a due time passing
while nobody acts is a breach, recorded once (one system event, one audit row) however
many sweeps (and processes) see it and whichever path saw it first; a reply sent in
time is never mistaken for a breach, even when its clocks were not stored again."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.conversations.clocks import SYSTEM_ACTOR, SlaClocks
from app.conversations.policy import load_sla_policy
from app.conversations.sweep import SlaSweep
from app.observability import Metrics
from app.services.review import ReviewService
from app.store import tickets as ticket_store
from app.store.conversations import TicketMessage, TicketState
from app.store.models import AuditLog
from tests.app.conftest import Seeder

# Around the clock for P1 (first response 30 min, resolution 8 h): no business hours.
OPENED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _sweep(sessions: sessionmaker[Session], clock: Clock) -> SlaSweep:
    return SlaSweep(sessions, SlaClocks(load_sla_policy(), clock))


def _breaches(sessions: sessionmaker[Session], ticket_id: str) -> tuple[int, int]:
    """(audit rows, conversation events) recording a breach of the ticket."""
    with sessions() as session:
        audited = session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.ticket_id == ticket_id, AuditLog.action == "sla_breached")
        )
        told = session.scalar(
            select(func.count())
            .select_from(TicketMessage)
            .where(TicketMessage.ticket_id == ticket_id, TicketMessage.event == "sla_breached")
        )
    return int(audited or 0), int(told or 0)


def _state(sessions: sessionmaker[Session], ticket_id: str) -> TicketState:
    with sessions() as session:
        state = session.get(TicketState, ticket_id)
        assert state is not None
        return state


def test_a_ticket_nobody_answers_is_marked_breached_once(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    ticket_id = seed.ticket(priority="P1", created_at=OPENED, draft_text=None).ticket_id
    clock = Clock(OPENED + timedelta(minutes=10))

    # Never stored before: the sweep starts its clocks (so the queue sorts it by due).
    report = _sweep(sessions, clock).sweep()
    assert (report.refreshed, report.breached) == (1, [])
    state = _state(sessions, ticket_id)
    assert state.sla_next_due == OPENED + timedelta(minutes=30)
    assert not state.sla_breached
    assert _sweep(sessions, clock).sweep().refreshed == 0, "unchanged: nothing written"

    clock.now = OPENED + timedelta(minutes=31)
    assert _sweep(sessions, clock).sweep().breached == [ticket_id]
    assert _state(sessions, ticket_id).sla_breached
    assert _breaches(sessions, ticket_id) == (1, 1)
    with sessions() as session:
        entry = session.scalars(
            select(AuditLog).where(
                AuditLog.ticket_id == ticket_id, AuditLog.action == "sla_breached"
            )
        ).one()
        assert entry.actor == SYSTEM_ACTOR
        assert entry.detail["clocks"] == ["first_response"]
        # A system event: the version agents act on is not bumped by it.
        assert _state(sessions, ticket_id).version == 0

    for minutes in (32, 90, 600):
        clock.now = OPENED + timedelta(minutes=minutes)
        assert _sweep(sessions, clock).sweep().breached == []
    assert _breaches(sessions, ticket_id) == (1, 1)


def test_clocks_started_with_a_ticket_are_what_the_conversation_computes(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    clock = Clock(OPENED + timedelta(minutes=5))
    clocks = SlaClocks(load_sla_policy(), clock)
    seeded = seed.ticket(priority="P2", created_at=OPENED)
    with sessions.begin() as session:
        clocks.start(session, ticket_store.get_ticket(session, seeded.ticket_id))
    # The sweep recomputes from the whole conversation: nothing to correct.
    assert _sweep(sessions, clock).sweep().refreshed == 0
    assert _state(sessions, seeded.ticket_id).sla_next_due == OPENED + timedelta(hours=2)


def test_sweeps_racing_record_a_breach_once(sessions: sessionmaker[Session], seed: Seeder) -> None:
    ticket_ids = [
        seed.ticket(priority="P1", created_at=OPENED, draft_text=None).ticket_id for _ in range(3)
    ]
    clock = Clock(OPENED + timedelta(hours=1))
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            _sweep(sessions, clock).sweep()
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [_breaches(sessions, t) for t in ticket_ids] == [(1, 1)] * 3


def test_a_reply_in_time_is_not_a_breach_and_a_late_one_is_recorded_by_the_approval(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    now = datetime.now(UTC)
    clock = Clock(now)
    clocks = SlaClocks(load_sla_policy(), clock)
    # Answered 10 minutes after opening, by an approval that did not store the clocks
    # again (as before this change, or a path that forgets): the row says "due in 30
    # minutes" and goes stale; the sweep recomputes it instead of calling it a breach.
    in_time = seed.ticket(priority="P1", created_at=now - timedelta(minutes=10))
    with sessions.begin() as session:
        clocks.refresh(session, in_time.ticket_id)
    assert in_time.draft_id is not None
    ReviewService(sessions, Metrics()).approve(
        in_time.draft_id, reviewer="tok_a:ana", text=None, expected_version=None
    )
    clock.now = now + timedelta(hours=1)
    report = _sweep(sessions, clock).sweep()
    assert report.breached == []
    assert report.refreshed == 1
    state = _state(sessions, in_time.ticket_id)
    assert not state.sla_breached
    assert state.sla_first_response_due is None, "met"
    assert state.sla_next_due == now - timedelta(minutes=10) + timedelta(hours=8)

    # Answered 50 minutes after opening: the approval (with the clocks) records the
    # breach itself; the sweep finds nothing more to record.
    clock.now = now
    late = seed.ticket(priority="P1", created_at=now - timedelta(minutes=50))
    assert late.draft_id is not None
    ReviewService(sessions, Metrics(), clocks=clocks).approve(
        late.draft_id, reviewer="tok_a:ana", text=None, expected_version=None
    )
    assert _breaches(sessions, late.ticket_id) == (1, 1)
    clock.now = now + timedelta(hours=1)
    assert _sweep(sessions, clock).sweep().breached == []
    assert _breaches(sessions, late.ticket_id) == (1, 1)
