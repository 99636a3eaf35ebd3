"""Ticket timings in business hours, computed in Python when fact rows are refreshed.

Working time between two instants in a time zone with its own days and hours is awkward
to write identically in SQLite and PostgreSQL SQL; computed here (with the SLA module's
own calendar arithmetic) and stored in ``metric_ticket_facts.business_seconds_to_*``,
the views and /v1/stats read the same numbers on both databases.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, text

from app.conversations.sla import BusinessHours, working_time_between

MEASURES = ("first_draft", "first_response", "approval", "resolution")
BATCH = 500


def business_seconds(start: datetime, seconds: int | None, hours: BusinessHours) -> int | None:
    """Working seconds in the ``seconds`` after ``start`` (truncated to the second, as the
    wall-clock timing was counted)."""
    if seconds is None:
        return None
    begin = start.replace(microsecond=0)
    end = begin + timedelta(seconds=int(seconds))
    return int(working_time_between(begin, end, hours).total_seconds())


def _instant(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


_READ = (
    "SELECT ticket_id, created_at, "
    + ", ".join(f"seconds_to_{m}" for m in MEASURES)
    + " FROM metric_ticket_facts"
)
_WRITE = (
    "UPDATE metric_ticket_facts SET "
    + ", ".join(f"business_seconds_to_{m} = :b_{m}" for m in MEASURES)
    + " WHERE ticket_id = :ticket_id"
)


def update_business_seconds(
    conn: Connection, hours: BusinessHours | None, ticket_ids: Sequence[str] | None
) -> None:
    """Fill the business-hour timings of these tickets' fact rows (all with None);
    nothing to do without business hours (the columns stay NULL)."""
    if hours is None:
        return
    if ticket_ids is None:
        rows = conn.execute(text(_READ)).all()
    else:
        statement = text(_READ + " WHERE ticket_id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        )
        rows = conn.execute(statement, {"ids": list(ticket_ids)}).all()
    updates = []
    for ticket_id, created_at, *timings in rows:
        start = _instant(created_at)
        values = {
            f"b_{m}": business_seconds(start, s, hours)
            for m, s in zip(MEASURES, timings, strict=True)
        }
        updates.append({"ticket_id": ticket_id, **values})
    for first in range(0, len(updates), BATCH):
        conn.execute(text(_WRITE), updates[first : first + BATCH])
