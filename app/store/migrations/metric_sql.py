"""The few SQL expressions SQLite and PostgreSQL spell differently, for the metric views.

Everything else in the views is portable SQL.  Each helper returns the same value on
both databases, so a view answers identically on either:

- instants become whole seconds since 1970 (SQLite keeps milliseconds when parsing, so
  PostgreSQL rounds to milliseconds first, then both drop the fraction);
- days and weeks are UTC, as ``YYYY-MM-DD`` text (a week is named by its Monday);
- a JSON member is read as text (numbers are cast by the caller).

Frozen with migration 0007: a later migration that changes a view brings its own copy.
"""

from __future__ import annotations

from dataclasses import dataclass

# 1970-01-05, the first Monday after the epoch: week numbers count Monday-based weeks.
_FIRST_MONDAY = 4 * 86400
_WEEK = 7 * 86400


@dataclass(frozen=True)
class Sql:
    dialect: str

    @property
    def sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def epoch(self, ts: str) -> str:
        """Whole seconds since 1970-01-01 UTC."""
        if self.sqlite:
            return f"CAST(strftime('%s', {ts}) AS INTEGER)"
        return f"CAST(FLOOR(ROUND(EXTRACT(EPOCH FROM {ts}), 3)) AS BIGINT)"

    def seconds(self, start: str, end: str) -> str:
        """Whole seconds from ``start`` to ``end`` (NULL when either is NULL)."""
        return f"({self.epoch(end)} - {self.epoch(start)})"

    def day(self, ts: str) -> str:
        if self.sqlite:
            return f"date({ts})"
        return f"to_char({ts} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"

    def week(self, ts: str) -> str:
        """The Monday that starts the ISO week of ``ts``."""
        if self.sqlite:
            # 'weekday 0' moves forward to Sunday (or stays on one); six days back is Monday.
            return f"date({ts}, 'weekday 0', '-6 days')"
        return f"to_char(date_trunc('week', {ts} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"

    def week_number(self, ts: str) -> str:
        """Weeks since 1970-01-05: consecutive weeks differ by one (no date arithmetic)."""
        return f"(({self.epoch(ts)} - {_FIRST_MONDAY}) / {_WEEK})"

    def json_text(self, column: str, key: str) -> str:
        if self.sqlite:
            return f"json_extract({column}, '$.{key}')"
        return f"({column} ->> '{key}')"

    def array_items(self, column: str, alias: str, key: str | None = None) -> str:
        """A FROM item: one row per element of the JSON array in ``column`` (or in its
        member ``key``), each in ``alias.value``; no rows when it is not an array."""
        if self.sqlite:
            path = f"'$.{key}'" if key else "'$'"
            guarded = f"CASE WHEN json_type({column}, {path}) = 'array' THEN {column} END"
            return f"json_each({guarded}, {path}) AS {alias}"
        value = f"({column} -> '{key}')" if key else column
        return (
            f"jsonb_array_elements(CASE WHEN jsonb_typeof({value}) = 'array' "
            f"THEN {value} ELSE '[]'::jsonb END) AS {alias}(value)"
        )

    def item_text(self, alias: str, key: str | None = None) -> str:
        """An array element (``key`` None: a scalar one) or its member, as text."""
        if self.sqlite:
            if key is None:
                return f"CAST({alias}.value AS TEXT)"
            return f"json_extract({alias}.value, '$.{key}')"
        if key is None:
            return f"({alias}.value #>> '{{}}')"
        return f"({alias}.value ->> '{key}')"

    def after_colon(self, column: str) -> str:
        """The text after the first ':' (an actor's token name), all of it without one."""
        if self.sqlite:
            return f"substr({column}, instr({column}, ':') + 1)"
        return f"substr({column}, strpos({column}, ':') + 1)"


def count_if(condition: str) -> str:
    """How many rows of the group meet ``condition``."""
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"
