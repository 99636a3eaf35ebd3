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
    # The daily rollups' dimension and the column grouped on there.
    dimension: str
    rollup_key: str
    # Self-service answers' column (they have no team, priority, channel or agent).
    answers: str | None


KEYS: dict[Group, Keys] = {
    "day": Keys("day", "day", "day", "all", "day", "day"),
    "week": Keys("week", "week", "week", "all", "week", "week"),
    "category": Keys("category", "category", None, "category", "key", "category"),
    "priority": Keys("priority", "priority", None, "priority", "key", None),
    "channel": Keys("channel", "channel", None, "channel", "key", None),
    "team": Keys("team", "team", None, "team", "key", None),
    "agent": Keys("assignee", "reviewer_name", "agent_name", "agent", "key", None),
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


def _valued(key: str, prefix: str) -> str:
    """One row per ticket and measure that happened, from the range's tickets."""
    timings = ", ".join(f"{prefix}{m} AS {m}" for m in MEASURES)
    branches = "\n  UNION ALL\n  ".join(
        f"SELECT grp, '{m}' AS measure, {m} AS seconds FROM base WHERE {m} IS NOT NULL"
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


def timings(key: str, dialect: str, prefix: str = "seconds_to_") -> str:
    """Percentiles per group and measure (total 0) and over the range (total 1).

    PostgreSQL's percentile_disc is the nearest-rank percentile and needs one sort per
    group; SQLite has no ordered-set aggregates, so there ranks come from window
    functions.  Both give the same values (tested).
    """
    if dialect == "postgresql":
        ranks = "percentile_disc(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY seconds)"
        return f"""
WITH {_valued(key, prefix)}
SELECT CASE WHEN GROUPING(grp) = 1 THEN 1 ELSE 0 END AS total, grp, measure,
  COUNT(*) AS count, ({ranks})[1] AS p50, ({ranks})[2] AS p90, ({ranks})[3] AS p95,
  MAX(seconds) AS max
FROM valued
GROUP BY GROUPING SETS ((grp, measure), (measure))"""
    return f"""
WITH {_valued(key, prefix)},
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
  {_sum("completion_tokens")} AS completion_tokens, COUNT(cost) AS with_cost, SUM(cost) AS cost
FROM metric_draft_facts
WHERE {_IN_RANGE.format(column="created_at")}
GROUP BY {key}"""


def action_counts(key: str | None) -> str:
    """Agent activity in a window, per group (``key`` None: one row).  Handle time is each
    action's stored gap to the same agent's previous action, when at most 30 minutes."""
    counts = ", ".join(f"{_count(cond)} AS {name}" for name, cond in ACTIONS.items())
    handle = f"CASE WHEN gap_seconds <= {IDLE_AFTER_SECONDS} THEN gap_seconds END"
    return f"""
SELECT {key or "NULL"} AS grp, COUNT(*) AS actions, {counts},
  COUNT({handle}) AS timed_actions, {_sum(handle)} AS handle_seconds_total
FROM metric_action_facts WHERE {_IN_RANGE.format(column="at")}
{f"GROUP BY {key}" if key else ""}"""


def action_tickets(key: str | None) -> str:
    """Distinct tickets acted on per group (total 0) and over the range (total 1): not a
    sum of days, so always from the fact rows."""
    # Distinct tickets from a grouped list (hashed), not COUNT(DISTINCT …) (sorted).
    grouped = (
        """SELECT 0 AS total, grp, COUNT(*) AS tickets
FROM (SELECT grp, ticket_id FROM acts GROUP BY grp, ticket_id) g GROUP BY grp
UNION ALL
"""
        if key is not None
        else ""
    )
    return f"""
WITH acts AS MATERIALIZED (
  SELECT {key or "NULL"} AS grp, ticket_id
  FROM metric_action_facts WHERE {_IN_RANGE.format(column="at")}
)
{grouped}SELECT 1 AS total, NULL AS grp, COUNT(*) AS tickets
FROM (SELECT ticket_id FROM acts GROUP BY ticket_id) d"""


# The daily rollups' columns under the names the fact statements give them.
ROLLUP_TICKETS = (
    "SUM(opened) AS tickets, SUM(self_service) AS self_service, SUM(reopened) AS reopened, "
    + ", ".join(f"SUM({f}) AS {f}" for f in ("sla_tracked", *_FLAGS))
)


def rollup(table: str, columns: list[str], group_by: str | None) -> str:
    """Sums of whole days [first_day, end_day) from a daily rollup, per group (``key``
    '' is no value: NULL, as the facts have it)."""
    grp = "NULL" if group_by is None else ("NULLIF(key, '')" if group_by == "key" else group_by)
    sums = ", ".join(columns)
    return f"""
SELECT {grp} AS grp, {sums}
FROM {table}
WHERE dimension = :dimension AND day >= :first_day AND day < :end_day
{"" if group_by is None else f"GROUP BY {grp}"}"""
