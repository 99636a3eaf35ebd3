"""The mark a demo history leaves in the database, so stats and reports can say so.

One ``audit_log`` row with no ticket (``action = 'demo_history'``), whose ``detail``
holds the seed, the period and the counts.  A row rather than a table: every database
already has the audit log, so no migration is needed, and SQL reads it with
``SELECT detail FROM audit_log WHERE action = 'demo_history'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store import audit
from app.store.models import AuditLog

DEMO_ACTION = "demo_history"
DEMO_ACTOR = "system:demo-history"


def write_marker(session: Session, detail: Mapping[str, Any], *, now: datetime) -> None:
    audit.record(
        session, ticket_id=None, actor=DEMO_ACTOR, action=DEMO_ACTION, detail=dict(detail), now=now
    )


def read_marker(session: Session) -> dict[str, Any] | None:
    """The newest demo mark's detail, or None for a database of real traffic."""
    detail = session.scalar(
        select(AuditLog.detail)
        .where(AuditLog.action == DEMO_ACTION, AuditLog.ticket_id.is_(None))
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(1)
    )
    return dict(detail) if isinstance(detail, dict) else None
