"""Drafting leases: which worker drafts a ``drafting`` ticket, and until when.

A ticket waiting for its (LLM) draft is claimed by one drafting worker at a time, in the
ticket's own row (``draft_worker``, ``draft_leased_until``).  A worker that dies
mid-draft leaves its lease to run out; the ticket is then due again and another worker
takes it over.  The lease must outlast one pipeline run (services/workers.py sizes it).

Claiming works as the outbox's (claims.py).  On PostgreSQL, ``SELECT … FOR UPDATE SKIP
LOCKED`` picks the rows, then an UPDATE of exactly those: concurrent workers skip each
other's rows instead of queueing behind them.  On SQLite, one ``UPDATE … WHERE id IN
(SELECT … LIMIT n) AND <still due> … RETURNING``: it runs under the single database write
lock, so it is an atomic claim by itself.

``release`` is a compare-and-set on the lease, made in the transaction that stores the
draft: a worker whose lease was taken over learns it lost, and stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from app.store.claims import picked
from app.store.columns import utcnow
from app.store.models import Ticket


@dataclass(frozen=True)
class DraftLease:
    """One worker's claim on one ticket; pass it back to ``release``."""

    ticket_id: str
    worker: str
    leased_until: datetime


def _due(now: datetime) -> ColumnElement[bool]:
    unleased = or_(Ticket.draft_leased_until.is_(None), Ticket.draft_leased_until <= now)
    return and_(Ticket.status == "drafting", unleased)


def claim(
    session: Session,
    worker: str,
    *,
    lease: timedelta,
    limit: int = 1,
    now: datetime | None = None,
) -> list[DraftLease]:
    """Lease up to ``limit`` due tickets to ``worker``, most urgent first; commit before
    drafting them."""
    now = now or utcnow()
    due = _due(now)
    # The queue index (status, priority, created_at, id) serves this order.
    order = (Ticket.priority, Ticket.created_at, Ticket.id)
    pick = select(Ticket.id).where(due).order_by(*order).limit(limit)
    chosen = picked(session, pick, Ticket.id)
    if chosen is None:
        return []
    until = now + lease
    rows = session.execute(
        update(Ticket)
        .where(chosen, due)
        .values(draft_worker=worker, draft_leased_until=until)
        .returning(*order)
        .execution_options(synchronize_session=False)
    ).all()
    return [DraftLease(ticket_id, worker, until) for _, _, ticket_id in sorted(rows)]


def release(session: Session, lease: DraftLease) -> bool:
    """End the lease; False when another worker took the ticket over meanwhile (the
    caller must then roll back whatever it wrote for the ticket)."""
    row = session.execute(
        update(Ticket)
        .where(
            Ticket.id == lease.ticket_id,
            Ticket.draft_worker == lease.worker,
            Ticket.draft_leased_until == lease.leased_until,
        )
        .values(draft_worker=None, draft_leased_until=None)
        .returning(Ticket.id)
        .execution_options(synchronize_session=False)
    ).first()
    return row is not None


def holder(session: Session, ticket_id: str) -> DraftLease | None:
    """The ticket's current lease, if any (for operators and tests)."""
    row = session.execute(
        select(Ticket.draft_worker, Ticket.draft_leased_until).where(Ticket.id == ticket_id)
    ).first()
    if row is None or row[0] is None or row[1] is None:
        return None
    return DraftLease(ticket_id, row[0], row[1])
