"""Drafting leases: one worker per drafting ticket, taken over once a lease runs out."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.store import draft_leases
from tests.app.conftest import Seeder

from .test_concurrency import _run_together

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def _claim(
    sessions: sessionmaker[Session], worker: str, *, now: datetime = T0, limit: int = 1
) -> list[draft_leases.DraftLease]:
    with sessions.begin() as s:
        return draft_leases.claim(s, worker, lease=LEASE, limit=limit, now=now)


def test_workers_racing_for_one_ticket_have_one_winner(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    ticket_id = seed.ticket(draft_text=None).ticket_id

    def claim(i: int) -> str:
        return ",".join(lease.ticket_id for lease in _claim(sessions, f"w{i}"))

    results = _run_together(8, claim)

    assert sorted(results) == [""] * 7 + [ticket_id]
    with sessions() as s:
        holder = draft_leases.holder(s, ticket_id)
    assert holder is not None
    assert holder.leased_until == T0 + LEASE


def test_an_expired_lease_is_taken_over_and_its_old_holder_stores_nothing(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    ticket_id = seed.ticket(draft_text=None).ticket_id
    [dead] = _claim(sessions, "dead")
    assert _claim(sessions, "other", now=T0 + LEASE - timedelta(seconds=1)) == []

    [taken] = _claim(sessions, "other", now=T0 + LEASE)

    assert (taken.ticket_id, taken.worker) == (ticket_id, "other")
    with sessions.begin() as s:
        assert not draft_leases.release(s, dead), "the old holder lost the ticket"
        assert draft_leases.release(s, taken)
        assert draft_leases.holder(s, ticket_id) is None


def test_claims_take_the_most_urgent_drafting_tickets_only(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    old = seed.ticket(priority="P3", draft_text=None, created_at=T0 - timedelta(hours=2))
    urgent = seed.ticket(priority="P1", draft_text=None, created_at=T0 - timedelta(hours=1))
    seed.ticket(priority="P1")  # has its draft: pending_review, nothing to claim
    newer = seed.ticket(priority="P3", draft_text=None, created_at=T0 - timedelta(minutes=1))

    leases = _claim(sessions, "w", limit=2)

    assert [lease.ticket_id for lease in leases] == [urgent.ticket_id, old.ticket_id]
    assert [lease.ticket_id for lease in _claim(sessions, "w2", limit=5)] == [newer.ticket_id]


@pytest.mark.postgres
def test_a_claim_skips_tickets_locked_by_another_claim(
    pg_sessions: sessionmaker[Session], seed_pg: Seeder
) -> None:
    first = seed_pg.ticket(draft_text=None, created_at=T0 - timedelta(minutes=2)).ticket_id
    second = seed_pg.ticket(draft_text=None, created_at=T0 - timedelta(minutes=1)).ticket_id
    claimed = threading.Event()
    finish = threading.Event()
    slow: list[str] = []

    def slow_worker() -> None:
        with pg_sessions.begin() as s:
            slow.extend(lease.ticket_id for lease in draft_leases.claim(s, "slow", lease=LEASE))
            claimed.set()
            # Hold the row lock (transaction open) while the other worker claims.
            finish.wait(timeout=30)

    thread = threading.Thread(target=slow_worker)
    thread.start()
    assert claimed.wait(timeout=30)
    # Must not block behind the open transaction, and must not take its ticket.
    fast = [lease.ticket_id for lease in _claim(pg_sessions, "fast", now=T0)]
    finish.set()
    thread.join(timeout=30)

    assert (slow, fast) == ([first], [second])
