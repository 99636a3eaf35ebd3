"""Races that the compare-and-set and SKIP LOCKED designs exist for."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.store import audit, outbox, reviews, tickets
from app.store.errors import ConflictError, InvalidStateError
from app.store.models import OutboxMessage, ReviewEvent
from tests.app.conftest import Seeder

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _run_together(n: int, work: Callable[[int], str]) -> list[str]:
    """Run work(0..n-1) in n threads released at the same instant; collect the results."""
    barrier = threading.Barrier(n)
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            result = work(i)
        except BaseException as exc:  # surfaced by the assertion below
            with lock:
                errors.append(exc)
            return
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    return results


def _approve_all(sessions: sessionmaker[Session], seed: Seeder, n: int) -> list[str]:
    drafts = []
    for _ in range(n):
        seeded = seed.ticket()
        assert seeded.draft_id is not None
        drafts.append(seeded.draft_id)
    with sessions.begin() as s:
        for draft_id in drafts:
            reviews.approve(s, draft_id, reviewer="alice", now=T0)
    return drafts


def test_fifty_parallel_approvals_of_one_draft_have_one_winner(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    seeded = seed.ticket()
    assert seeded.draft_id is not None
    draft_id = seeded.draft_id

    def approve(i: int) -> str:
        try:
            with sessions.begin() as s:
                reviews.approve(s, draft_id, reviewer=f"agent-{i}", text=f"reply from {i}")
        except ConflictError:
            return "conflict"
        return "approved"

    results = _run_together(50, approve)

    assert sorted(results) == ["approved"] + ["conflict"] * 49
    with sessions() as s:
        [message] = s.scalars(select(OutboxMessage)).all()
        [event] = s.scalars(select(ReviewEvent)).all()
        ticket = tickets.get_ticket(s, seeded.ticket_id)
        # The outbox carries the winner's text, not a mixture of racers.
        assert message.payload["text"] == ticket.drafts[0].final_text
        assert event.reviewer == ticket.drafts[0].approved_by
        approvals = [a for a in audit.list_for_ticket(s, ticket.id) if a.action == "draft_approved"]
        assert len(approvals) == 1


@pytest.mark.postgres
def test_concurrent_claims_skip_locked_rows_instead_of_sharing_them(
    pg_sessions: sessionmaker[Session], seed_pg: Seeder
) -> None:
    _approve_all(pg_sessions, seed_pg, 10)
    first_claimed = threading.Event()
    release_first = threading.Event()
    claims: dict[str, list[str]] = {}

    def slow_worker() -> None:
        with pg_sessions.begin() as s:
            claims["slow"] = [m.id for m in outbox.claim_batch(s, "slow", 5, now=T0)]
            first_claimed.set()
            # Hold the row locks (transaction open) while the other worker claims.
            release_first.wait(timeout=30)

    thread = threading.Thread(target=slow_worker)
    thread.start()
    assert first_claimed.wait(timeout=30)
    with pg_sessions.begin() as s:
        # Must not block behind the open transaction, and must not see its rows.
        claims["fast"] = [m.id for m in outbox.claim_batch(s, "fast", 10, now=T0)]
    release_first.set()
    thread.join(timeout=30)

    assert len(claims["slow"]) == 5
    assert len(claims["fast"]) == 5
    assert set(claims["slow"]).isdisjoint(claims["fast"])


def test_many_workers_claim_every_message_exactly_once(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    drafts = _approve_all(sessions, seed, 30)

    def worker(i: int) -> str:
        mine: list[str] = []
        while True:
            with sessions.begin() as s:
                batch = outbox.claim_batch(s, f"w{i}", 3, now=T0)
            if not batch:
                return ",".join(mine)
            mine += [m.id for m in batch]

    results = _run_together(4, worker)
    claimed = [msg for r in results for msg in r.split(",") if msg]
    assert len(claimed) == len(drafts)
    assert len(set(claimed)) == len(claimed)


def test_crash_between_claim_and_send_is_delivered_once_after_the_stale_timeout(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    [draft_id] = _approve_all(sessions, seed, 1)
    sent: list[str] = []

    def sender(message: OutboxMessage) -> None:
        sent.append(message.id)

    # Worker 1 claims, then "dies": it never sends nor marks.
    with sessions.begin() as s:
        [orphan] = outbox.claim_batch(s, "w1", now=T0)

    # Before the claim is stale nobody else may touch it.
    early = outbox.deliver_pending(
        sessions, sender, "w2", stale_after=60, clock=lambda: T0 + timedelta(seconds=59)
    )
    assert early.claimed == 0
    assert sent == []

    later = outbox.deliver_pending(
        sessions, sender, "w2", stale_after=60, clock=lambda: T0 + timedelta(seconds=61)
    )
    assert (later.claimed, later.sent) == (1, 1)
    assert sent == [orphan.id]

    # Worker 1 was only slow after all: it comes back and tries to mark its stale claim.
    with sessions.begin() as s:
        assert outbox.mark_sent(s, orphan.id, worker_id="w1") is False
    # And a third worker finds nothing left to send.
    again = outbox.deliver_pending(
        sessions, sender, "w3", stale_after=60, clock=lambda: T0 + timedelta(hours=1)
    )
    assert again.claimed == 0
    assert sent == [orphan.id]

    with sessions() as s:
        message = s.get(OutboxMessage, orphan.id)
        assert message is not None
        assert (message.status, message.claimed_by, message.attempts) == ("sent", "w2", 2)
        draft = tickets.get_draft(s, draft_id)
        assert draft.status == "sent"
        trail = audit.list_for_ticket(s, draft.ticket_id)
        assert [a.action for a in trail].count("reply_sent") == 1
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_redraft_racing_an_approval_never_deadlocks_or_half_applies(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    for _ in range(5):
        seeded = seed.ticket(draft_text="v1")
        assert seeded.draft_id is not None
        draft_id = seeded.draft_id

        def act(i: int, ticket_id: str = seeded.ticket_id, draft_id: str = draft_id) -> str:
            try:
                with sessions.begin() as s:
                    if i == 0:
                        reviews.approve(s, draft_id, reviewer="alice")
                        return "approved"
                    tickets.add_draft(s, ticket_id, text="v2", confidence=0.5, needs_human=False)
                    return "redrafted"
            except (ConflictError, InvalidStateError):
                # SQLite has no row lock: a re-draft that read the ticket before the
                # approval committed loses the compare-and-set (Conflict) instead.
                return "approve_lost" if i == 0 else "redraft_lost"

        results = sorted(_run_together(2, act))
        with sessions() as s:
            ticket = tickets.get_ticket(s, seeded.ticket_id)
            outbox_rows = s.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.ticket_id == ticket.id)
            )
        if results == ["approved", "redraft_lost"]:
            assert ticket.status == "approved"
            assert [d.status for d in ticket.drafts] == ["approved"]
            assert outbox_rows == 1
        else:
            assert results == ["approve_lost", "redrafted"]
            assert ticket.status == "pending_review"
            assert [d.status for d in ticket.drafts] == ["superseded", "pending"]
            assert outbox_rows == 0
