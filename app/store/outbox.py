"""The transactional outbox: approved replies waiting to be delivered.

Guarantee.  ``reviews.approve`` writes the outbox row in the approval's transaction, so
every approved draft is delivered and nothing unapproved ever is.  Delivery itself is
at-least-once: a worker claims a row (``sending``), calls the sender, then marks it
``sent`` in a new transaction.  If the worker dies after the sender succeeded but before
``mark_sent`` commits, the claim goes stale and another worker sends again, so senders
must pass ``message.id`` to the transport as an idempotency key (Slack ``client_msg_id``,
an email Message-ID, a webhook header) to make the duplicate harmless.  The state machine
itself is exactly-once: ``mark_sent`` is a compare-and-set on the claim, so a draft and its
ticket move to ``sent`` once, and a worker whose claim was taken over learns it lost.

Leases.  A claim is a lease of ``stale_after`` seconds (TRIAGE_OUTBOX_STALE_AFTER_SECONDS,
60 s), renewed before each send of a batch, so a restarted or surviving worker re-sends
a dead worker's message within about a minute.  The lease must be longer than one send
(the sender's own timeout), or a slow (not dead) worker gets its claim taken over and
the message goes out twice.

Permanent failures.  A sender error with a true ``permanent`` attribute (e.g. a reply
aimed at a channel the bot does not serve) fails the message at once: a retry would be
refused the same way.

Claiming.  On PostgreSQL, ``SELECT … FOR UPDATE SKIP LOCKED`` then an UPDATE of exactly
those rows: concurrent workers skip each other's locked rows instead of queueing behind
them or double-claiming.  On SQLite, one ``UPDATE … WHERE id IN (SELECT … LIMIT n) AND
status = 'pending' … RETURNING``: it runs under the single database write lock, so it is
an atomic claim by itself (claims.py; the drafting leases claim the same way).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.store import audit
from app.store.claims import picked
from app.store.columns import utcnow
from app.store.errors import NotFoundError
from app.store.models import OutboxMessage, OutboxStatus
from app.store.transitions import move_draft, move_ticket

log = logging.getLogger(__name__)

DEFAULT_STALE_AFTER = 60.0
DEFAULT_MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 3600.0
MAX_ERROR_CHARS = 2000

Sender = Callable[[OutboxMessage], None]


def backoff_seconds(attempts: int) -> float:
    """Wait before the next try after ``attempts`` failures: 5 s, 10 s, 20 s … capped at 1 h."""
    return float(min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS))


def claim_batch(
    session: Session,
    worker_id: str,
    limit: int = 10,
    *,
    stale_after: float = DEFAULT_STALE_AFTER,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    now: datetime | None = None,
) -> list[OutboxMessage]:
    """Claim up to ``limit`` due messages for ``worker_id``; commit before sending them.

    Due: ``pending`` whose backoff has passed, or ``sending`` whose claim is older than
    ``stale_after`` seconds (its worker crashed between claim and mark).  A stale claim
    that has used up ``max_attempts`` is failed rather than retried forever.
    """
    now = now or utcnow()
    stale_before = now - timedelta(seconds=stale_after)
    stale = and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at <= stale_before)
    expired = session.execute(
        update(OutboxMessage)
        .where(stale, OutboxMessage.attempts >= max_attempts)
        .values(status="failed", last_error="claim expired: the worker never reported back")
        .returning(OutboxMessage.id, OutboxMessage.ticket_id, OutboxMessage.attempts)
        .execution_options(synchronize_session=False)
    )
    for msg_id, ticket_id, attempts in expired:
        audit.record(
            session,
            ticket_id=ticket_id,
            actor=f"outbox:{worker_id}",
            action="reply_failed",
            detail={"outbox_id": msg_id, "attempts": attempts, "error": "claim expired"},
            now=now,
        )
    session.flush()
    due = or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(stale, OutboxMessage.attempts < max_attempts),
    )
    order = (OutboxMessage.next_attempt_at, OutboxMessage.id)
    pick = select(OutboxMessage.id).where(due).order_by(*order).limit(limit)
    chosen = picked(session, pick, OutboxMessage.id)
    if chosen is None:
        return []
    stmt = (
        update(OutboxMessage)
        .where(chosen, due)
        .values(
            status="sending",
            claimed_by=worker_id,
            claimed_at=now,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    claimed = list(session.scalars(stmt))
    return sorted(claimed, key=lambda m: (m.next_attempt_at, m.id))


def renew(
    session: Session, msg_ids: Sequence[str], *, worker_id: str, now: datetime | None = None
) -> set[str]:
    """Extend this worker's lease on claimed messages; returns the ids it still holds."""
    if not msg_ids:
        return set()
    rows = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(msg_ids),
            OutboxMessage.status == "sending",
            OutboxMessage.claimed_by == worker_id,
        )
        .values(claimed_at=now or utcnow())
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return set(rows.scalars())


def mark_sent(
    session: Session, msg_id: str, *, worker_id: str | None = None, now: datetime | None = None
) -> bool:
    """Record a delivery; False when this worker no longer holds the claim (or it was
    already marked), in which case nothing changes."""
    now = now or utcnow()
    where = [OutboxMessage.id == msg_id, OutboxMessage.status == "sending"]
    if worker_id is not None:
        where.append(OutboxMessage.claimed_by == worker_id)
    row = session.execute(
        update(OutboxMessage)
        .where(*where)
        .values(status="sent", sent_at=now, last_error=None)
        .returning(OutboxMessage.ticket_id, OutboxMessage.draft_id)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        if session.get(OutboxMessage, msg_id) is None:
            raise NotFoundError(f"outbox message {msg_id} not found")
        return False
    ticket_id, draft_id = row
    draft_moved = move_draft(session, draft_id, expected="approved", to="sent")
    ticket_moved = move_ticket(session, ticket_id, expected="approved", to="sent", now=now)
    if not (draft_moved and ticket_moved):
        # Only reachable after a manual intervention; the message did go out, so record
        # what happened rather than pretend it did not.
        log.warning("outbox %s sent but draft/ticket were not approved", msg_id)
    audit.record(
        session,
        ticket_id=ticket_id,
        actor=f"outbox:{worker_id or 'unknown'}",
        action="reply_sent",
        from_status="approved" if ticket_moved else None,
        to_status="sent" if ticket_moved else None,
        detail={"outbox_id": msg_id, "draft_id": draft_id, "draft_moved": draft_moved},
        now=now,
    )
    session.flush()
    return True


def mark_failed(
    session: Session,
    msg_id: str,
    *,
    error: str,
    worker_id: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    now: datetime | None = None,
) -> OutboxStatus | None:
    """Schedule a retry with backoff, or give up after ``max_attempts``.

    Returns the new status, or None when this worker no longer holds the claim.
    """
    now = now or utcnow()
    message = session.get(OutboxMessage, msg_id, populate_existing=True)
    if message is None:
        raise NotFoundError(f"outbox message {msg_id} not found")
    if message.status != "sending" or (worker_id is not None and message.claimed_by != worker_id):
        return None
    attempts = message.attempts
    status: OutboxStatus = "failed" if attempts >= max_attempts else "pending"
    moved = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == msg_id,
            OutboxMessage.status == "sending",
            OutboxMessage.claimed_by == message.claimed_by,
            OutboxMessage.attempts == attempts,
        )
        .values(
            status=status,
            last_error=error[:MAX_ERROR_CHARS],
            next_attempt_at=now + timedelta(seconds=backoff_seconds(attempts)),
            claimed_by=None,
            claimed_at=None,
        )
        .returning(OutboxMessage.id)
    ).first()
    if moved is None:
        return None
    if status == "failed":
        audit.record(
            session,
            ticket_id=message.ticket_id,
            actor=f"outbox:{worker_id or 'unknown'}",
            action="reply_failed",
            detail={"outbox_id": msg_id, "attempts": attempts, "error": error[:200]},
            now=now,
        )
    session.flush()
    return status


@dataclass(frozen=True)
class DeliveryReport:
    claimed: int
    sent: int
    retrying: int
    failed: int
    # Sent by this worker but already marked by another (its claim went stale).
    lost: int


def deliver_pending(
    sessions: sessionmaker[Session],
    sender: Sender,
    worker_id: str,
    *,
    limit: int = 10,
    stale_after: float = DEFAULT_STALE_AFTER,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    clock: Callable[[], datetime] = utcnow,
) -> DeliveryReport:
    """Claim one batch and deliver it; call in a loop (with a sleep when nothing was claimed).

    The claim commits before any send, so a slow transport never holds row locks; each
    mark is its own short transaction.
    """
    leased_at = clock()
    with sessions.begin() as session:
        batch = claim_batch(
            session,
            worker_id,
            limit,
            stale_after=stale_after,
            max_attempts=max_attempts,
            now=leased_at,
        )
        # Detach with attributes loaded, so the sender can read them whatever the
        # sessionmaker's expire_on_commit setting.
        session.expunge_all()
    sent = retrying = failed = lost = 0
    held = {message.id for message in batch}
    for index, message in enumerate(batch):
        # Renew the leases of the rest of the batch once a third of the lease is gone,
        # so a long batch never sends a message another worker may be taking over.
        now = clock()
        if (now - leased_at).total_seconds() >= stale_after / 3:
            rest = [m.id for m in batch[index:] if m.id in held]
            with sessions.begin() as session:
                held = renew(session, rest, worker_id=worker_id, now=now)
            leased_at = now
        if message.id not in held:
            lost += 1
            continue
        try:
            sender(message)
        except Exception as exc:  # any transport failure is retried, never fatal to the loop
            log.warning("outbox %s: send failed: %s", message.id, exc)
            permanent = bool(getattr(exc, "permanent", False))
            with sessions.begin() as session:
                outcome = mark_failed(
                    session,
                    message.id,
                    error=f"{type(exc).__name__}: {exc}",
                    worker_id=worker_id,
                    max_attempts=message.attempts if permanent else max_attempts,
                    now=clock(),
                )
            retrying += outcome == "pending"
            failed += outcome == "failed"
            lost += outcome is None
            continue
        with sessions.begin() as session:
            if mark_sent(session, message.id, worker_id=worker_id, now=clock()):
                sent += 1
            else:
                lost += 1
    return DeliveryReport(len(batch), sent, retrying, failed, lost)
