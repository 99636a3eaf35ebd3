"""The statements behind GET /v1/stats, read from the metric views (migration 0007).

Each section counts its own events whose time falls in [start, end): tickets by when
they were opened, drafts by when they were written, agent actions by when they were
taken.  Rows are grouped by a key the caller chose from a fixed list (never user text).

``AS MATERIALIZED`` (PostgreSQL 12+, SQLite 3.35+): each view row in the range is
computed once; without it PostgreSQL would inline the view and compute a timing once
per place the query mentions it.  Percentiles are nearest-rank (the value at rank
ceil(p·n/100)), in integer arithmetic, so both databases agree exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Group = Literal["day", "week", "category", "priority", "channel", "team", "agent"]
GROUPS: tuple[Group, ...] = get_args(Group)
MEASURES = ("first_draft", "first_response", "approval", "resolution")
OUTCOMES = ("approved_unedited", "edited", "rejected", "rewritten", "auto_sent", "superseded")
ACTIONS = {
    "approvals": "action IN ('approve', 'edit')",
    "edits": "action = 'edit'",
    "rejections": "action = 'reject'",
    "escalations": "action IN ('escalate', 'reassign')",
    "replies": "action = 'reply'",
    "notes": "action = 'note'",
    "solves": "action = 'solved'",
}
# An agent's gap between two actions longer than this is idle, not handling time
# (the same bound as the metric_agent_handle_times view).
IDLE_AFTER_SECONDS = 1800

_IN_RANGE = "{column} >= :start AND {column} < :end"


@dataclass(frozen=True)
class Keys:
    """The column each section groups by, or None when it cannot be grouped so."""

    tickets: str
    drafts: str
    actions: str | None


KEYS: dict[Group, Keys] = {
    "day": Keys("day", "day", "day"),
    "week": Keys("week", "week", "week"),
    "category": Keys("category", "category", None),
    "priority": Keys("priority", "priority", None),
    "channel": Keys("channel", "channel", None),
    "team": Keys("team", "team", None),
    "agent": Keys("assignee", "reviewer_name", "agent_name"),
}


def _count(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _sum(column: str) -> str:
    return f"CAST(COALESCE(SUM({column}), 0) AS BIGINT)"


def tickets(key: str) -> str:
    flags = (
        "sla_breached",
        "sla_first_response_breached",
        "sla_next_response_breached",
        "sla_resolution_breached",
    )
    return f"""
WITH base AS MATERIALIZED (
  SELECT {key} AS grp, self_service, reopens, sla_tracked, {", ".join(flags)}
  FROM metric_tickets WHERE {_IN_RANGE.format(column="created_at")}
)
SELECT grp, COUNT(*) AS tickets, {_sum("self_service")} AS self_service,
  {_count("reopens > 0")} AS reopened, {_sum("sla_tracked")} AS sla_tracked,
  {", ".join(f"{_sum(f)} AS {f}" for f in flags)}
FROM base
GROUP BY grp"""


def _ranked(partition: str) -> str:
    return (
        f"ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY seconds) AS rn, "
        f"COUNT(*) OVER (PARTITION BY {partition}) AS n"
    )


def _percentile(percent: int) -> str:
    return f"MAX(CASE WHEN rn = ({percent} * n + 99) / 100 THEN seconds END) AS p{percent}"


def timings(key: str) -> str:
    return f"""
WITH base AS MATERIALIZED (
  SELECT {key} AS grp, measure, seconds
  FROM metric_ticket_timings WHERE {_IN_RANGE.format(column="created_at")}
),
valued AS (SELECT grp, measure, seconds FROM base WHERE seconds IS NOT NULL),
ranked AS (
  SELECT 0 AS total, grp, measure, seconds, {_ranked("grp, measure")} FROM valued
  UNION ALL
  SELECT 1, NULL, measure, seconds, {_ranked("measure")} FROM valued
)
SELECT total, grp, measure, MAX(n) AS count,
  {_percentile(50)}, {_percentile(90)}, {_percentile(95)}, MAX(seconds) AS max
FROM ranked
GROUP BY total, grp, measure"""


def drafts(key: str) -> str:
    outcomes = ", ".join(_count(f"outcome = '{o}'") + f" AS {o}" for o in OUTCOMES)
    return f"""
WITH base AS MATERIALIZED (
  SELECT {key} AS grp, outcome, rewritten_by_hand, edit_distance, prompt_tokens,
    completion_tokens, total_tokens
  FROM metric_draft_outcomes WHERE {_IN_RANGE.format(column="created_at")}
)
SELECT grp, COUNT(*) AS total, {outcomes}, {_count("outcome = 'pending'")} AS pending,
  {_sum("rewritten_by_hand")} AS rewritten_by_hand,
  {_sum("CASE WHEN outcome = 'edited' THEN edit_distance END")} AS edit_distance_total,
  COUNT(total_tokens) AS with_usage, {_sum("prompt_tokens")} AS prompt_tokens,
  {_sum("completion_tokens")} AS completion_tokens
FROM base
GROUP BY grp"""


def _epoch(dialect: str, ts: str) -> str:
    # As the views count seconds (app/store/migrations/metric_sql.py).
    if dialect == "sqlite":
        return f"CAST(strftime('%s', {ts}) AS INTEGER)"
    return f"CAST(FLOOR(ROUND(EXTRACT(EPOCH FROM {ts}), 3)) AS BIGINT)"


def actions(key: str | None, dialect: str) -> str:
    """Agent activity; with ``key`` None only the totals.  An agent's first action in the
    range is untimed: its previous one may lie before the range."""
    previous = "LAG(at) OVER (PARTITION BY agent ORDER BY at, ticket_id, action)"
    gap = f"{_epoch(dialect, 'at')} - {_epoch(dialect, previous)}"
    counts = ", ".join(f"{_count(c)} AS {name}" for name, c in ACTIONS.items())
    measures = (
        f"COUNT(*) AS actions, COUNT(DISTINCT ticket_id) AS tickets, {counts}, "
        f"COUNT(handle) AS timed_actions, {_sum('handle')} AS handle_seconds_total"
    )
    grouped = (
        f"SELECT 0 AS total, grp, {measures} FROM timed GROUP BY grp\nUNION ALL\n"
        if key is not None
        else ""
    )
    return f"""
WITH acts AS MATERIALIZED (
  SELECT {key or "NULL"} AS grp, agent, ticket_id, at, action
  FROM metric_agent_actions WHERE {_IN_RANGE.format(column="at")}
),
gaps AS (SELECT grp, ticket_id, action, {gap} AS gap FROM acts),
timed AS (
  SELECT grp, ticket_id, action, CASE WHEN gap <= {IDLE_AFTER_SECONDS} THEN gap END AS handle
  FROM gaps
)
{grouped}SELECT 1 AS total, NULL AS grp, {measures} FROM timed"""
