"""Compare-and-set status changes: the one way the store moves a row between states.

Each helper is a single ``UPDATE … WHERE id = :id AND status = :expected`` and reports
whether it won.  Two writers racing for the same transition both issue the UPDATE; the
database lets exactly one match (PostgreSQL re-checks the WHERE after waiting on the
row lock, SQLite runs writers one at a time), so a loser learns it lost instead of
silently overwriting the winner.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.store.models import Draft, DraftStatus, Ticket, TicketStatus


def move_ticket(
    session: Session,
    ticket_id: str,
    *,
    expected: TicketStatus | Collection[TicketStatus],
    to: TicketStatus,
    now: datetime,
    **values: Any,
) -> bool:
    allowed = [expected] if isinstance(expected, str) else list(expected)
    stmt = (
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.status.in_(allowed))
        .values(status=to, updated_at=now, **values)
        .returning(Ticket.id)
    )
    return session.execute(stmt).first() is not None


def move_draft(
    session: Session,
    draft_id: str,
    *,
    expected: DraftStatus,
    to: DraftStatus,
    version: int | None = None,
    **values: Any,
) -> bool:
    stmt = update(Draft).where(Draft.id == draft_id, Draft.status == expected)
    if version is not None:
        stmt = stmt.where(Draft.version == version)
    stmt = stmt.values(status=to, **values).returning(Draft.id)
    return session.execute(stmt).first() is not None
