"""The audit trail: one row per state change, written in the change's own transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store.columns import utcnow
from app.store.models import AuditLog


def record(
    session: Session,
    *,
    ticket_id: str | None,
    actor: str,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    detail: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditLog:
    entry = AuditLog(
        ticket_id=ticket_id,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        detail=dict(detail or {}),
        created_at=now or utcnow(),
    )
    session.add(entry)
    return entry


def list_for_ticket(session: Session, ticket_id: str) -> list[AuditLog]:
    """Oldest first; ids are time-ordered, so they break same-instant ties in write order."""
    stmt = (
        select(AuditLog)
        .where(AuditLog.ticket_id == ticket_id)
        .order_by(AuditLog.created_at, AuditLog.id)
    )
    return list(session.scalars(stmt))
