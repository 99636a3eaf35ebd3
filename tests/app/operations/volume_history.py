"""Tickets with a known daily volume, written straight into the store: what the volume
forecast is fitted on (the metric facts are refreshed from them on the next read)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from app.store.columns import utcnow
from tests.app.operations.metric_fixture import _ticket

# Weekdays busy, weekends quiet: a weekly season any forecast should keep.
WEEKDAY, WEEKEND = 20, 3


def weekly_pattern(first: date, days: int) -> list[int]:
    return [WEEKEND if (first + timedelta(days=i)).weekday() >= 5 else WEEKDAY for i in range(days)]


def add_volume(session: Session, first: date, counts: Sequence[int], *, prefix: str = "v") -> None:
    """``counts[i]`` tickets on day ``first + i`` (UTC), spread over its working hours."""
    written = utcnow()
    for offset, count in enumerate(counts):
        day = first + timedelta(days=offset)
        for n in range(count):
            created = datetime.combine(day, time(8), tzinfo=UTC) + timedelta(minutes=20 * n)
            ticket = _ticket(
                f"tkt_{prefix}{day:%Y%m%d}_{n}",
                created,
                channel="api",
                category="auth_api_access",
                priority="P3",
                team="integrations",
                status="pending_review",
                triage={},
            )
            # Written now: the metric refresh picks up rows changed since its last run.
            ticket.updated_at = written
            session.add(ticket)
    session.flush()
