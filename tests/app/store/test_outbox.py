from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.store import audit, outbox, reviews, tickets
from app.store.errors import NotFoundError
from app.store.models import OutboxMessage
from tests.app.conftest import Seeder

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _approved(sessions: sessionmaker[Session], seed: Seeder, n: int = 1) -> list[str]:
    """Approve n fresh drafts at T0; returns their outbox message ids."""
    ids = []
    for _ in range(n):
        seeded = seed.ticket()
        assert seeded.draft_id is not None
        with sessions.begin() as s:
            reviews.approve(s, seeded.draft_id, reviewer="alice", now=T0)
            message = s.scalars(
                select(OutboxMessage).where(OutboxMessage.draft_id == seeded.draft_id)
            ).one()
            ids.append(message.id)
    return ids


def _never(message: OutboxMessage) -> None:
    raise AssertionError(f"nothing should be sent, got {message.id}")


def _message(sessions: sessionmaker[Session], msg_id: str) -> OutboxMessage:
    with sessions() as s:
        message = s.get(OutboxMessage, msg_id)
        assert message is not None
        return message


def test_claim_then_mark_sent_moves_draft_and_ticket_to_sent(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    [msg_id] = _approved(sessions, seed)
    with sessions.begin() as s:
        [claimed] = outbox.claim_batch(s, "w1", 10, now=T0)
        assert (claimed.id, claimed.status, claimed.claimed_by, claimed.attempts) == (
            msg_id,
            "sending",
            "w1",
            1,
        )
        assert outbox.claim_batch(s, "w2", 10, now=T0) == []
    with sessions.begin() as s:
        assert outbox.mark_sent(s, msg_id, worker_id="w1", now=T0) is True
    with sessions.begin() as s:
        assert outbox.mark_sent(s, msg_id, worker_id="w1", now=T0) is False

    message = _message(sessions, msg_id)
    assert (message.status, message.sent_at) == ("sent", T0)
    with sessions() as s:
        ticket = tickets.get_ticket(s, message.ticket_id)
        assert ticket.status == "sent"
        assert ticket.drafts[0].status == "sent"
        sent = [a for a in audit.list_for_ticket(s, ticket.id) if a.action == "reply_sent"]
        assert [(a.from_status, a.to_status, a.actor) for a in sent] == [
            ("approved", "sent", "outbox:w1")
        ]


def test_claim_respects_the_limit_and_oldest_first(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    ids = _approved(sessions, seed, 5)
    with sessions.begin() as s:
        first = [m.id for m in outbox.claim_batch(s, "w", 2, now=T0)]
    with sessions.begin() as s:
        rest = [m.id for m in outbox.claim_batch(s, "w", 10, now=T0)]
    assert first == ids[:2]
    assert rest == ids[2:]
    with sessions.begin() as s:
        assert outbox.claim_batch(s, "w", 10, now=T0) == []


def test_failures_back_off_then_give_up(sessions: sessionmaker[Session], seed: Seeder) -> None:
    [msg_id] = _approved(sessions, seed)
    now = T0
    for attempt in (1, 2):
        with sessions.begin() as s:
            assert [m.id for m in outbox.claim_batch(s, "w", now=now, max_attempts=3)] == [msg_id]
        with sessions.begin() as s:
            status = outbox.mark_failed(
                s, msg_id, error="HTTP 503", worker_id="w", max_attempts=3, now=now
            )
        assert status == "pending"
        retry_at = _message(sessions, msg_id).next_attempt_at
        assert retry_at == now + timedelta(seconds=outbox.backoff_seconds(attempt))
        with sessions.begin() as s:
            assert outbox.claim_batch(s, "w", now=retry_at - timedelta(seconds=1)) == []
        now = retry_at

    with sessions.begin() as s:
        outbox.claim_batch(s, "w", now=now, max_attempts=3)
    with sessions.begin() as s:
        assert outbox.mark_failed(s, msg_id, error="HTTP 503", max_attempts=3, now=now) == "failed"
    message = _message(sessions, msg_id)
    assert (message.status, message.attempts, message.last_error) == ("failed", 3, "HTTP 503")
    with sessions.begin() as s:
        assert outbox.claim_batch(s, "w", now=now + timedelta(days=1)) == []


def test_backoff_grows_and_is_capped() -> None:
    assert [outbox.backoff_seconds(n) for n in (1, 2, 3)] == [5.0, 10.0, 20.0]
    assert outbox.backoff_seconds(50) == 3600.0


def test_mark_by_a_worker_that_lost_its_claim_changes_nothing(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    [msg_id] = _approved(sessions, seed)
    with sessions.begin() as s:
        outbox.claim_batch(s, "w1", now=T0)
    with sessions.begin() as s:
        assert outbox.mark_failed(s, msg_id, error="x", worker_id="w2", now=T0) is None
        assert outbox.mark_sent(s, msg_id, worker_id="w2", now=T0) is False
    assert _message(sessions, msg_id).status == "sending"
    with sessions.begin() as s, pytest.raises(NotFoundError):
        outbox.mark_sent(s, "obx_missing")


def test_stale_claims_that_used_every_attempt_are_failed(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    [msg_id] = _approved(sessions, seed)
    with sessions.begin() as s:
        outbox.claim_batch(s, "crashy", now=T0, max_attempts=1)
    later = T0 + timedelta(seconds=301)
    report = outbox.deliver_pending(sessions, _never, "w2", max_attempts=1, clock=lambda: later)
    assert report.claimed == 0
    message = _message(sessions, msg_id)
    assert message.status == "failed"
    with sessions() as s:
        trail = audit.list_for_ticket(s, message.ticket_id)
        assert [a.actor for a in trail if a.action == "reply_failed"] == ["outbox:w2"]
    assert message.last_error is not None
    assert "never reported back" in message.last_error


def test_deliver_pending_sends_each_message_with_its_id(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    ids = _approved(sessions, seed, 3)
    delivered: list[tuple[str, str]] = []

    def sender(message: OutboxMessage) -> None:
        if message.id == ids[1]:
            raise ConnectionError("slack is down")
        delivered.append((message.id, message.payload["text"]))

    report = outbox.deliver_pending(sessions, sender, "w1", clock=lambda: T0)

    assert report == outbox.DeliveryReport(claimed=3, sent=2, retrying=1, failed=0, lost=0)
    assert sorted(delivered) == sorted(
        (i, "Rotate the key under Settings > API keys.") for i in (ids[0], ids[2])
    )
    failed = _message(sessions, ids[1])
    assert failed.status == "pending"
    assert failed.last_error == "ConnectionError: slack is down"


def test_a_dead_workers_claim_is_taken_over_after_the_lease_not_five_minutes(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    [msg_id] = _approved(sessions, seed)
    with sessions.begin() as s:
        outbox.claim_batch(s, "dead", now=T0)
    sent: list[str] = []

    def at(seconds: float) -> outbox.DeliveryReport:
        when = T0 + timedelta(seconds=seconds)
        return outbox.deliver_pending(
            sessions, lambda m: sent.append(m.id), "w2", stale_after=30, clock=lambda: when
        )

    assert at(29).claimed == 0
    assert at(31) == outbox.DeliveryReport(claimed=1, sent=1, retrying=0, failed=0, lost=0)
    assert sent == [msg_id]
    assert outbox.DEFAULT_STALE_AFTER < 300


def test_a_long_batch_renews_each_lease_before_sending(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    ids = _approved(sessions, seed, 3)
    clock = [T0]
    taken_over: list[list[str]] = []

    def slow_sender(message: OutboxMessage) -> None:
        # Each send takes 20 s of a 30 s lease; meanwhile another worker looks for
        # stale claims and must find none.
        clock[0] += timedelta(seconds=20)
        with sessions.begin() as s:
            taken_over.append(
                [m.id for m in outbox.claim_batch(s, "w2", stale_after=30, now=clock[0])]
            )

    report = outbox.deliver_pending(
        sessions, slow_sender, "w1", stale_after=30, clock=lambda: clock[0]
    )

    assert report == outbox.DeliveryReport(claimed=3, sent=3, retrying=0, failed=0, lost=0)
    assert taken_over == [[], [], []]
    assert {_message(sessions, i).attempts for i in ids} == {1}


def test_a_permanent_send_error_fails_the_message_at_once(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    [msg_id] = _approved(sessions, seed)

    class Refused(RuntimeError):
        permanent = True

    def refuse(message: OutboxMessage) -> None:
        raise Refused("not a support channel")

    report = outbox.deliver_pending(sessions, refuse, "w1", clock=lambda: T0)

    assert (report.failed, report.retrying) == (1, 0)
    message = _message(sessions, msg_id)
    assert (message.status, message.attempts) == ("failed", 1)
