"""Ticket timings counted per bucket, for percentiles over long ranges.

A percentile is not a sum of days: over a year of 100k tickets, ranking every timing
costs about half a second on PostgreSQL.  So for ranges longer than ``EXACT_DAYS`` the
statistics rank buckets instead: a timing of ``s`` seconds falls in the bucket whose
integer bounds [lo, hi) hold it, the bounds growing by 2^(1/4) (about 19 %; the first
ones are single seconds).  A percentile is the nearest-rank bucket's geometric middle,
never above the exact maximum: within 11 % of the exact value (9.1 % above 100 s;
measured over every second up to 3 million by tests/app/operations/metrics/test_histogram.py's
bound), see docs/metrics.md.
Counts and maxima stay exact.

``metric_timing_histogram`` holds, per bucket, the tickets and their longest timing: per
UTC day under dimension ``all`` (day and week groupings, totals), per ISO week under
``category``, ``priority``, ``channel``, ``team`` and ``agent`` (assignee).  Buckets are
computed here in Python, so both databases store the same rows.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, text

from app.operations.metrics.stats_sql import MEASURES, Group
from app.operations.metrics.touched import cut
from app.store.columns import UTCDateTime

# Ranges up to this long rank the exact timings; longer ones rank buckets.
EXACT_DAYS = 31
ALL = "all"
# dimension -> the ticket fact column (None: everything under key '').
DIMENSIONS: dict[str, str | None] = {
    ALL: None,
    "category": "category",
    "priority": "priority",
    "channel": "channel",
    "team": "team",
    "agent": "assignee",
}
GROUP_DIMENSIONS: dict[Group, str] = {
    "day": ALL,
    "week": ALL,
    "category": "category",
    "priority": "priority",
    "channel": "channel",
    "team": "team",
    "agent": "agent",
}
COLUMNS = tuple(f"seconds_to_{m}" for m in MEASURES) + tuple(
    f"business_seconds_to_{m}" for m in MEASURES
)
# The histogram's measure names, one per column above.
NAMES = (*MEASURES, *(f"business_{m}" for m in MEASURES))


@cache
def bounds() -> tuple[int, ...]:
    """The buckets' lower bounds: bucket b >= 1 holds [bounds[b-1], bounds[b])."""
    return tuple(sorted({math.ceil(2 ** (k / 4)) for k in range(4 * 27)}))


def bucket(seconds: int) -> int:
    return bisect_right(bounds(), seconds)


def estimate(index: int) -> int:
    """A bucket's value: its geometric middle (bucket 0 holds 0)."""
    if index == 0:
        return 0
    edges = bounds()
    low = edges[index - 1]
    high = edges[index] - 1 if index < len(edges) else low
    return min(max(round(math.sqrt(low * high)), low), high)


@dataclass
class Counts:
    """One group's and measure's histogram."""

    buckets: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    max_seconds: int | None = None

    def add(self, index: int, tickets: int, longest: int) -> None:
        self.buckets[index] += tickets
        self.max_seconds = longest if self.max_seconds is None else max(self.max_seconds, longest)

    def merge(self, other: Counts) -> None:
        for index, tickets in other.buckets.items():
            self.buckets[index] += tickets
        if other.max_seconds is not None:
            self.add(0, 0, other.max_seconds)

    @property
    def count(self) -> int:
        return sum(self.buckets.values())

    def percentile(self, percent: int) -> int | None:
        """Nearest rank (rank ceil(p·n/100)) among the buckets, capped by the maximum."""
        n = self.count
        if not n or self.max_seconds is None:
            return None
        rank = (percent * n + 99) // 100
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                return min(estimate(index), self.max_seconds)
        return self.max_seconds


def _fact_rows(conn: Connection, where: str, params: dict[str, Any]) -> Any:
    keys = ", ".join(c for c in DIMENSIONS.values() if c)
    sql = f"SELECT day, week, {keys}, {', '.join(COLUMNS)} FROM metric_ticket_facts {where}"
    statement = text(sql)
    if ":days" in where:
        statement = statement.bindparams(bindparam("days", expanding=True))
    if ":start" in where:
        statement = statement.bindparams(
            bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())
        )
    return conn.execute(statement, params).mappings()


def recompute(conn: Connection, weeks: Iterable[str] | None) -> None:
    """Rebuild the histogram rows of these weeks (None: all) from the fact rows."""
    chosen = None if weeks is None else sorted({w for w in weeks if w})
    if chosen == []:
        return
    cells: dict[tuple[str, str, str, str, int], list[Any]] = {}
    if chosen is None:
        conn.execute(text("DELETE FROM metric_timing_histogram"))
        rows = _fact_rows(conn, "", {})
    else:
        delete = text("DELETE FROM metric_timing_histogram WHERE week IN :weeks")
        conn.execute(delete.bindparams(bindparam("weeks", expanding=True)), {"weeks": chosen})
        # Whole weeks: every day of a week of a refreshed ticket.
        statement = text(
            "SELECT day FROM metric_ticket_facts WHERE week IN :weeks GROUP BY day"
        ).bindparams(bindparam("weeks", expanding=True))
        days = list(conn.execute(statement, {"weeks": chosen}).scalars())
        rows = _fact_rows(conn, "WHERE day IN :days", {"days": days}) if days else []
    for row in rows:
        for column, name in zip(COLUMNS, NAMES, strict=True):
            seconds = row[column]
            if seconds is None:
                continue
            index = bucket(int(seconds))
            for dimension, key_column in DIMENSIONS.items():
                start = row["day"] if dimension == ALL else row["week"]
                key = "" if key_column is None else (row[key_column] or "")
                cell = cells.setdefault((dimension, start, key, name, index), [row["week"], 0, 0])
                cell[1] += 1
                cell[2] = max(cell[2], int(seconds))
    inserts = [
        {"dimension": d, "start": s, "key": k, "measure": m, "bucket": b,
         "week": w, "tickets": n, "max_seconds": longest}
        for (d, s, k, m, b), (w, n, longest) in cells.items()
    ]  # fmt: skip
    insert = text(
        "INSERT INTO metric_timing_histogram (dimension, start, key, measure, bucket, week, "
        "tickets, max_seconds) VALUES (:dimension, :start, :key, :measure, :bucket, :week, "
        ":tickets, :max_seconds)"
    )
    for first in range(0, len(inserts), 1000):
        conn.execute(insert, inserts[first : first + 1000])


Histograms = dict[tuple[Any, str], Counts]


def read(
    conn: Connection, group: Group, key: str, start: datetime, end: datetime, business: bool
) -> tuple[Histograms, dict[str, Counts]]:
    """Per (group key, measure) and per measure in all: the range's histograms (whole
    days or weeks from the table, the partial ones at the ends from the fact rows)."""
    dimension = GROUP_DIMENSIONS[group]
    names = NAMES if business else MEASURES
    span = cut(start, end, 1 if dimension == ALL else 7)
    groups: Histograms = defaultdict(Counts)
    if span.whole is not None:
        grp = {"day": "start", "week": "week"}.get(group, "NULLIF(key, '')")
        sql = f"""
SELECT {grp} AS grp, measure, bucket, SUM(tickets) AS tickets, MAX(max_seconds) AS longest
FROM metric_timing_histogram
WHERE dimension = :dimension AND start >= :first AND start < :last AND measure IN :names
GROUP BY {grp}, measure, bucket"""
        statement = text(sql).bindparams(bindparam("names", expanding=True))
        first, last = (moment.date().isoformat() for moment in span.whole)
        params = {"dimension": dimension, "first": first, "last": last, "names": list(names)}
        for row in conn.execute(statement, params):
            groups[(row.grp, row.measure)].add(row.bucket, int(row.tickets), int(row.longest))
    for a, b in span.edges:
        where = "WHERE created_at >= :start AND created_at < :end"
        for row in _fact_rows(conn, where, {"start": a, "end": b}):
            for column, name in zip(COLUMNS, NAMES, strict=True):
                if name in names and row[column] is not None:
                    seconds = int(row[column])
                    groups[(row[key], name)].add(bucket(seconds), 1, seconds)
    totals: dict[str, Counts] = defaultdict(Counts)
    for (_, name), counts in groups.items():
        totals[name].merge(counts)
    return groups, totals
