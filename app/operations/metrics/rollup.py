"""Keeping the daily rollups (app/store/metric_rollups.py) equal to sums of the fact rows.

A refresh recomputes whole days: every day a refreshed ticket's facts fell on before or
fall on after (its opening, its drafts, its agents' actions, and the actions whose gap
changed).  A day is a few hundred fact rows, so this costs little beside the copy itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, text

from app.operations.metrics.stats_sql import ACTIONS, IDLE_AFTER_SECONDS, OUTCOMES
from app.store.metric_rollups import ACTION_SUMS, DRAFT_SUMS, TICKET_SUMS
from app.store.migrations.metric_sql import Sql

ALL = "all"
# dimension -> the fact column grouped on, per table (None: not grouped that way).
DIMENSIONS: dict[str, tuple[str | None, str | None, str | None]] = {
    ALL: ("''", "''", "''"),
    "category": ("category", "category", None),
    "priority": ("priority", "priority", None),
    "channel": ("channel", "channel", None),
    "team": ("team", "team", None),
    "agent": ("assignee", "reviewer_name", "agent_name"),
}


def _n(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _s(expression: str) -> str:
    return f"CAST(COALESCE(SUM({expression}), 0) AS BIGINT)"


_TICKET_MEASURES = [
    "COUNT(*)",
    _s("self_service"),
    _n("reopens > 0"),
    _s("sla_tracked"),
    *(_s(c) for c in TICKET_SUMS[4:]),
]
_DRAFT_MEASURES = [
    "COUNT(*)",
    *(_n(f"outcome = '{o}'") for o in OUTCOMES),
    _n("outcome = 'pending'"),
    _s("rewritten_by_hand"),
    _s("CASE WHEN outcome = 'edited' THEN edit_distance END"),
    "COUNT(total_tokens)",
    _s("prompt_tokens"),
    _s("completion_tokens"),
    "COUNT(cost)",
    "SUM(cost)",
]
_HANDLE = f"CASE WHEN gap_seconds <= {IDLE_AFTER_SECONDS} THEN gap_seconds END"


def previous(dimension: str) -> str:
    """The column holding an action's previous one on the same ticket, as the dimension
    counts distinct tickets: per agent by the same agent, otherwise by anyone."""
    return "prev_agent_at" if dimension == "agent" else "prev_ticket_at"


def _action_measures(q: Sql, dimension: str) -> list[str]:
    prev = previous(dimension)
    return [
        "COUNT(*)",
        *(_n(condition) for condition in ACTIONS.values()),
        f"COUNT({_HANDLE})",
        _s(_HANDLE),
        _n(f"{prev} IS NULL"),
        _n(f"{q.day(prev)} < day"),
        _n(f"{q.week(prev)} < week"),
    ]


# (rollup table, fact table, its sums' columns, position in DIMENSIONS)
TABLES = (
    ("metric_ticket_daily", "metric_ticket_facts", TICKET_SUMS, 0),
    ("metric_draft_daily", "metric_draft_facts", (*DRAFT_SUMS, "cost"), 1),
    ("metric_action_daily", "metric_action_facts", ACTION_SUMS, 2),
)


def _measures(table: str, q: Sql, dimension: str) -> list[str]:
    if table == "metric_ticket_daily":
        return _TICKET_MEASURES
    if table == "metric_draft_daily":
        return _DRAFT_MEASURES
    return _action_measures(q, dimension)


def _inserts(where: str, dialect: str) -> list[str]:
    q = Sql(dialect)
    statements = []
    for rollup, facts, columns, position in TABLES:
        selects = []
        for dimension, keys in DIMENSIONS.items():
            column = keys[position]
            if column is None:
                continue
            measures = _measures(rollup, q, dimension)
            assert len(columns) == len(measures), rollup
            key = f"COALESCE({column}, '')"
            selects.append(
                f"SELECT '{dimension}', {key}, day, MIN(week), {', '.join(measures)} "
                f"FROM {facts} {where} GROUP BY day, {key}"
            )
        statements.append(
            f"INSERT INTO {rollup} (dimension, key, day, week, {', '.join(columns)}) "
            + " UNION ALL ".join(selects)
        )
    return statements


def recompute_days(conn: Connection, days: Iterable[str]) -> None:
    """Rebuild the rollup rows of these days from the fact rows."""
    chosen = sorted({d for d in days if d})
    if not chosen:
        return
    for first in range(0, len(chosen), 200):
        params: dict[str, Any] = {"days": chosen[first : first + 200]}
        for rollup, *_ in TABLES:
            delete = text(f"DELETE FROM {rollup} WHERE day IN :days")
            conn.execute(delete.bindparams(bindparam("days", expanding=True)), params)
        for insert in _inserts("WHERE day IN :days", conn.dialect.name):
            conn.execute(text(insert).bindparams(bindparam("days", expanding=True)), params)


def recompute_all(conn: Connection) -> None:
    for rollup, *_ in TABLES:
        conn.execute(text(f"DELETE FROM {rollup}"))
    for insert in _inserts("", conn.dialect.name):
        conn.execute(text(insert))


_DAYS = (
    "SELECT day FROM metric_ticket_facts WHERE ticket_id IN :ids "
    "UNION SELECT day FROM metric_draft_facts WHERE ticket_id IN :ids "
    "UNION SELECT day FROM metric_action_facts WHERE ticket_id IN :ids"
)
_ACTION_DAYS = "SELECT day FROM metric_action_facts WHERE action_id IN :actions"


def touched_days(conn: Connection, ticket_ids: list[str], action_ids: list[str]) -> set[str]:
    """The days these tickets' fact rows (and these actions) fall on."""
    days = set(
        conn.execute(
            text(_DAYS).bindparams(bindparam("ids", expanding=True)), {"ids": ticket_ids}
        ).scalars()
    )
    for first in range(0, len(action_ids), 500):
        statement = text(_ACTION_DAYS).bindparams(bindparam("actions", expanding=True))
        chunk = action_ids[first : first + 500]
        days.update(conn.execute(statement, {"actions": chunk}).scalars())
    return days
