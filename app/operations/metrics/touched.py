"""Distinct tickets agents acted on, per group and over a range, without reading every
action of a long range.

A ticket counts once per group interval [a, b): at the first of its actions there, the
one whose previous action on the ticket (by anyone; per agent, by that agent) is before
``a`` or does not exist.  So the count is the actions in [a, b) that are first ever
(``prev IS NULL``: additive, kept per day in the rollup as ``first_touches``) plus those
whose previous is before ``a``: for a group that is a whole day or week, the rollup's
``returns_day`` / ``returns_week``; for the range's own start, the few actions whose
previous lies before it (an index on the previous time).  Partial days or weeks at the
ends are read from the fact rows.  Exact; the tests compare it with counting distinct
ticket ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, text

from app.operations.metrics.rollup import ALL, previous
from app.operations.metrics.stats_sql import Group
from app.store.columns import UTCDateTime
from app.store.migrations.metric_sql import Sql

_PERIOD_RETURNS = {"day": "returns_day", "week": "returns_week"}


@dataclass(frozen=True)
class Cut:
    """[start, end) cut at period boundaries: whole periods [first, last) and the edges."""

    whole: tuple[datetime, datetime] | None
    edges: list[tuple[datetime, datetime]]


def cut(start: datetime, end: datetime, days: int) -> Cut:
    """Whole days (``days`` 1) or ISO weeks (7) inside the range, and what is left."""

    def floor(moment: datetime) -> datetime:
        day = moment.astimezone(UTC).date()
        if days == 7:
            day -= timedelta(days=day.weekday())
        return datetime.combine(day, time(), tzinfo=UTC)

    first = floor(start)
    if first < start:
        first += timedelta(days=days)
    last = floor(end)
    if first >= last:
        return Cut(None, [(start, end)])
    return Cut((first, last), [(a, b) for a, b in ((start, first), (last, end)) if a < b])


class _Counter:
    """One range's counts, added up per group."""

    def __init__(self, conn: Connection, start: datetime, end: datetime) -> None:
        self.conn = conn
        self.start = start
        self.end = end
        self.q = Sql(conn.dialect.name)
        self.counts: dict[Any, int] = {}

    def add(self, rows: Any) -> None:
        for grp, n in rows:
            self.counts[grp] = self.counts.get(grp, 0) + int(n or 0)

    def facts(
        self, key: str | None, condition: str, start: datetime, end: datetime, *, few: bool = False
    ) -> None:
        """Actions in [start, end) meeting ``condition``, per group; ``few`` when the
        condition selects few rows (filtered in WHERE, where an index can find them)."""
        counted = "COUNT(*)" if few else f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"
        sql = f"""
SELECT {key or "NULL"} AS grp, {counted} AS tickets
FROM metric_action_facts WHERE at >= :start AND at < :end{f" AND {condition}" if few else ""}
{f"GROUP BY {key}" if key else ""}"""
        binds = [bindparam(n, type_=UTCDateTime()) for n in ("start", "end", "range_start")]
        params = {"start": start, "end": end, "range_start": self.start}
        self.add(self.conn.execute(text(sql).bindparams(*binds), params))

    def rollup(
        self, dimension: str, group_by: str | None, columns: str, whole: tuple[datetime, datetime]
    ) -> None:
        """Sums of ``columns`` over the whole days [whole) of the action rollup."""
        grp = "NULL" if group_by is None else ("NULLIF(key, '')" if group_by == "key" else group_by)
        sql = f"""
SELECT {grp} AS grp, SUM({columns}) AS tickets FROM metric_action_daily
WHERE dimension = :dimension AND day >= :first AND day < :last
{"" if group_by is None else f"GROUP BY {grp}"}"""
        params = {
            "dimension": dimension,
            "first": whole[0].date().isoformat(),
            "last": whole[1].date().isoformat(),
        }
        self.add(self.conn.execute(text(sql), params))


def distinct_tickets(
    conn: Connection, group: Group, key: str | None, start: datetime, end: datetime
) -> dict[Any, int]:
    """Distinct tickets acted on per group of ``group`` (``key`` the fact column; None:
    one count under the key None, the range's total)."""
    dimension = "agent" if group == "agent" and key is not None else ALL
    prev = previous(dimension)
    counter = _Counter(conn, start, end)
    first_in_range = f"{prev} IS NULL OR {prev} < :range_start"
    if key is not None and group in _PERIOD_RETURNS:
        # Each day / week is its own interval: its first action there counts.
        period = counter.q.day(prev) if group == "day" else counter.q.week(prev)
        span = cut(start, end, 1 if group == "day" else 7)
        for a, b in span.edges:
            counter.facts(key, f"{first_in_range} OR {period} < {group}", a, b)
        if span.whole is not None:
            counter.rollup(ALL, group, f"first_touches + {_PERIOD_RETURNS[group]}", span.whole)
        return counter.counts
    # One interval, the range: first touches by day, plus returns from before its start.
    group_by = None if key is None else "key"
    span = cut(start, end, 1)
    for a, b in span.edges:
        counter.facts(key, first_in_range, a, b)
    if span.whole is not None:
        counter.rollup(dimension, group_by, "first_touches", span.whole)
        a, b = span.whole
        counter.facts(key, f"{prev} < :range_start", a, b, few=True)
    return counter.counts
