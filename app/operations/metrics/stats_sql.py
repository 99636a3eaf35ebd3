"""The statements behind GET /v1/stats, over the metric fact tables: the stored rows of
the metric_tickets, metric_draft_outcomes and metric_agent_actions views
(app/store/metric_facts.py, refreshed by app/operations/metrics/refresh.py).

Each section counts its own events whose time falls in [start, end): tickets by when
they were opened, drafts by when they were written, agent actions by when they were
taken.  Rows are grouped by a key the caller chose from a fixed list (never user text).
Percentiles are nearest-rank (the value at rank ceil(p·n/100)); both databases agree
exactly.  ``AS MATERIALIZED`` (PostgreSQL 12+, SQLite 3.35+) reads the range once for
the four timings.
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
_FLAGS = (
    "sla_breached",
    "sla_first_response_breached",
    "sla_next_response_breached",
    "sla_resolution_breached",
)


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
    counts = ", ".join(f"{_sum(f)} AS {f}" for f in _FLAGS)
    return f"""
SELECT {key} AS grp, COUNT(*) AS tickets, {_sum("self_service")} AS self_service,
  {_count("reopens > 0")} AS reopened, {_sum("sla_tracked")} AS sla_tracked, {counts}
FROM metric_ticket_facts
WHERE {_IN_RANGE.format(column="created_at")}
GROUP BY {key}"""


def _valued(key: str) -> str:
    """One row per ticket and measure that happened, from the range's tickets."""
    timings = ", ".join(f"seconds_to_{m}" for m in MEASURES)
    branches = "\n  UNION ALL\n  ".join(
        f"SELECT grp, '{m}' AS measure, seconds_to_{m} AS seconds FROM base "
        f"WHERE seconds_to_{m} IS NOT NULL"
        for m in MEASURES
    )
    return f"""base AS MATERIALIZED (
  SELECT {key} AS grp, {timings}
  FROM metric_ticket_facts WHERE {_IN_RANGE.format(column="created_at")}
),
valued AS (
  {branches}
)"""


def _ranked(partition: str) -> str:
    return (
        f"ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY seconds) AS rn, "
        f"COUNT(*) OVER (PARTITION BY {partition}) AS n"
    )


def _nearest_rank(percent: int) -> str:
    return f"MAX(CASE WHEN rn = ({percent} * n + 99) / 100 THEN seconds END) AS p{percent}"


def timings(key: str, dialect: str) -> str:
    """Percentiles per group and measure (total 0) and over the range (total 1).

    PostgreSQL's percentile_disc is the nearest-rank percentile and needs one sort per
    group; SQLite has no ordered-set aggregates, so there ranks come from window
    functions.  Both give the same values (tested).
    """
    if dialect == "postgresql":
        ranks = "percentile_disc(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY seconds)"
        return f"""
WITH {_valued(key)}
SELECT CASE WHEN GROUPING(grp) = 1 THEN 1 ELSE 0 END AS total, grp, measure,
  COUNT(*) AS count, ({ranks})[1] AS p50, ({ranks})[2] AS p90, ({ranks})[3] AS p95,
  MAX(seconds) AS max
FROM valued
GROUP BY GROUPING SETS ((grp, measure), (measure))"""
    return f"""
WITH {_valued(key)},
ranked AS (
  SELECT 0 AS total, grp, measure, seconds, {_ranked("grp, measure")} FROM valued
  UNION ALL
  SELECT 1, NULL, measure, seconds, {_ranked("measure")} FROM valued
)
SELECT total, grp, measure, MAX(n) AS count, {_nearest_rank(50)}, {_nearest_rank(90)},
  {_nearest_rank(95)}, MAX(seconds) AS max
FROM ranked
GROUP BY total, grp, measure"""


def drafts(key: str) -> str:
    outcomes = ", ".join(_count(f"outcome = '{o}'") + f" AS {o}" for o in OUTCOMES)
    return f"""
SELECT {key} AS grp, COUNT(*) AS total, {outcomes}, {_count("outcome = 'pending'")} AS pending,
  {_sum("rewritten_by_hand")} AS rewritten_by_hand,
  {_sum("CASE WHEN outcome = 'edited' THEN edit_distance END")} AS edit_distance_total,
  COUNT(total_tokens) AS with_usage, {_sum("prompt_tokens")} AS prompt_tokens,
  {_sum("completion_tokens")} AS completion_tokens
FROM metric_draft_facts
WHERE {_IN_RANGE.format(column="created_at")}
GROUP BY {key}"""


def actions(key: str | None) -> str:
    """Agent activity; with ``key`` None only the totals.  Handle time is each action's
    stored gap to the same agent's previous action, when at most 30 minutes."""
    counts = ", ".join(f"{_count(cond)} AS {name}" for name, cond in ACTIONS.items())
    measures = (
        f"COUNT(*) AS actions, {counts}, COUNT(handle) AS timed_actions, "
        f"{_sum('handle')} AS handle_seconds_total"
    )
    # Distinct tickets from a grouped list (hashed), not COUNT(DISTINCT …) (sorted).
    grouped = (
        f"""SELECT 0 AS total, a.*, touched.tickets
FROM (SELECT grp, {measures} FROM acts GROUP BY grp) a
JOIN touched ON touched.grp = a.grp
UNION ALL
"""
        if key is not None
        else ""
    )
    return f"""
WITH acts AS MATERIALIZED (
  SELECT {key or "NULL"} AS grp, ticket_id, action,
    CASE WHEN gap_seconds <= {IDLE_AFTER_SECONDS} THEN gap_seconds END AS handle
  FROM metric_action_facts WHERE {_IN_RANGE.format(column="at")}
),
touched AS MATERIALIZED (
  SELECT grp, COUNT(*) AS tickets FROM (SELECT grp, ticket_id FROM acts GROUP BY grp, ticket_id) g
  GROUP BY grp
)
{grouped}SELECT 1 AS total, NULL AS grp, {measures},
  (SELECT COUNT(*) FROM (SELECT ticket_id FROM acts GROUP BY ticket_id) d) AS tickets
FROM acts"""
