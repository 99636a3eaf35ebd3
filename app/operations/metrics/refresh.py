"""Keeping the metric fact tables (app/store/metric_facts.py) equal to their views.

A ticket's facts are stale when the ticket or its conversation state changed since they
were copied (every write to a ticket, its drafts, reviews or messages updates one of the
two), when they were never copied, or when a stored SLA due time they were computed
before has passed.  Refreshing a ticket deletes its rows and copies them again from the
views, in one transaction.

Finding stale tickets reads only rows changed since the last refresh, less a margin
(``MARGIN``) for transactions that committed late or clocks that differ between hosts.
On PostgreSQL one refresher runs at a time (an advisory lock; the others skip); SQLite
lets one writer in at a time anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, Connection, Engine, TextClause, bindparam, text

from app.operations.metrics import histogram
from app.operations.metrics.business import update_business_seconds
from app.operations.metrics.config import MetricsConfig
from app.operations.metrics.rollup import TABLES as ROLLUPS
from app.operations.metrics.rollup import recompute_all, recompute_days, touched_days
from app.store.columns import UTCDateTime, utcnow

log = logging.getLogger(__name__)

MARGIN = timedelta(minutes=10)
BATCH = 500
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# "metricrf" in ASCII: recognisable in pg_locks.
_LOCK_KEY = int.from_bytes(b"metricrf", "big") & 0x7FFF_FFFF_FFFF_FFFF

TICKET_COLUMNS = (
    "ticket_id, created_at, day, week, channel, category, priority, team, assignee, "
    "self_service, reopens, seconds_to_first_draft, seconds_to_first_response, "
    "seconds_to_approval, seconds_to_resolution, sla_tracked, sla_breached, "
    "sla_first_response_breached, sla_next_response_breached, sla_resolution_breached"
)
DRAFT_COLUMNS = (
    "draft_id, ticket_id, created_at, day, week, channel, category, priority, team, drafter, "
    "outcome, rewritten_by_hand, edit_distance, reviewer_name, prompt_tokens, "
    "completion_tokens, total_tokens"
)
ACTION_COLUMNS = "action_id, ticket_id, agent, agent_name, at, at_epoch, day, week, action"

_DUES = ("s.sla_first_response_due", "s.sla_next_response_due", "s.sla_resolution_due")


def _recheck_at() -> str:
    """The earliest stored due time still ahead (portable: no LEAST/min over NULLs)."""
    ahead = [f"CASE WHEN {due} > CURRENT_TIMESTAMP THEN {due} END" for due in _DUES]
    first, second, third = ahead
    return (
        f"CASE WHEN ({first}) IS NOT NULL AND (({second}) IS NULL OR ({first}) <= ({second})) "
        f"AND (({third}) IS NULL OR ({first}) <= ({third})) THEN {first} "
        f"WHEN ({second}) IS NOT NULL AND (({third}) IS NULL OR ({second}) <= ({third})) "
        f"THEN {second} ELSE {third} END"
    )


def _copies(where: str, config: MetricsConfig, *, gaps: bool = False) -> list[str]:
    """The INSERT … SELECT statements that copy the views' rows matching ``where``; with
    ``gaps`` the actions' gaps too (for a copy of every row: a window over all of them).
    Drafts get their cost at the configured prices; tickets the settings' tag."""
    prefixed = ", ".join(f"mt.{c.strip()}" for c in TICKET_COLUMNS.split(","))
    tag = config.tag
    assert tag.isalnum() or not tag  # hex: safe as a literal
    return [
        f"INSERT INTO metric_ticket_facts ({TICKET_COLUMNS}, ticket_updated_at, "
        "state_updated_at, recheck_at, refreshed_at, config_tag) "
        f"SELECT {prefixed}, t.updated_at, s.updated_at, {_recheck_at()}, :now, '{tag}' "
        "FROM metric_tickets mt JOIN tickets t ON t.id = mt.ticket_id "
        "LEFT JOIN ticket_states s ON s.ticket_id = mt.ticket_id "
        + where.format(column="mt.ticket_id"),
        f"INSERT INTO metric_draft_facts ({DRAFT_COLUMNS}, cost) "
        f"SELECT {DRAFT_COLUMNS}, {config.cost_sql()} "
        f"FROM metric_draft_outcomes {where.format(column='ticket_id')}",
        f"INSERT INTO metric_action_facts ({ACTION_COLUMNS}, prev_ticket_at, prev_agent_at"
        f"{', gap_seconds' if gaps else ''}) "
        f"SELECT {ACTION_COLUMNS}, {_PREVIOUS}{', ' + _WINDOW_GAP if gaps else ''} "
        f"FROM metric_agent_actions {where.format(column='ticket_id')}",
    ]


_TABLES = ("metric_action_facts", "metric_draft_facts", "metric_ticket_facts")
# As metric_agent_handle_times orders an agent's actions.
_WINDOW_GAP = "at_epoch - LAG(at_epoch) OVER (PARTITION BY agent ORDER BY at, action_id)"
# The ticket's previous action (by anyone; by the same agent): a ticket's first action in
# a range is the one whose previous is before it (stats: distinct tickets per agent).
# Every action of a ticket is copied together, so the window sees them all.
_PREVIOUS = (
    "LAG(at) OVER (PARTITION BY ticket_id ORDER BY at, action_id), "
    "LAG(at) OVER (PARTITION BY ticket_id, agent ORDER BY at, action_id)"
)

_STALE = """
SELECT t.id AS ticket_id FROM tickets t
LEFT JOIN metric_ticket_facts f ON f.ticket_id = t.id
WHERE t.updated_at >= :since AND (f.ticket_id IS NULL OR f.ticket_updated_at <> t.updated_at)
UNION
SELECT s.ticket_id FROM ticket_states s
LEFT JOIN metric_ticket_facts f ON f.ticket_id = s.ticket_id
WHERE s.updated_at >= :since
  AND (f.ticket_id IS NULL OR f.state_updated_at IS NULL OR f.state_updated_at <> s.updated_at)
UNION
SELECT f.ticket_id FROM metric_ticket_facts f WHERE f.recheck_at <= CURRENT_TIMESTAMP
UNION
SELECT f.ticket_id FROM metric_ticket_facts f WHERE f.config_tag < :tag OR f.config_tag > :tag
"""


def _bound(sql: str, *more: BindParameter[Any]) -> TextClause:
    """The statement with ``:now`` typed when it has one (only the ticket copy does)."""
    statement = text(sql)
    if ":now" in sql:
        statement = statement.bindparams(bindparam("now", type_=UTCDateTime()))
    return statement.bindparams(*more) if more else statement


def tune_planner(conn: Connection) -> None:
    """PostgreSQL planner settings for this transaction only.

    The metric statements read recent rows whose tables and indexes are hot in memory:
    priced as if every index probe went to disk (random_page_cost 4), a week's tickets
    would be joined by scanning whole tables.  JIT compilation costs far more than these
    statements run, and so does starting parallel workers at this size.
    """
    if conn.dialect.name != "postgresql":
        return
    for setting in (
        "random_page_cost = 1.1",
        "jit = off",
        "max_parallel_workers_per_gather = 0",
        "work_mem = '64MB'",
    ):
        conn.exec_driver_sql(f"SET LOCAL {setting}")


def week_of(day: str) -> str:
    """The Monday of a ``YYYY-MM-DD`` day's ISO week (as the views name weeks)."""
    moment = date.fromisoformat(day)
    return (moment - timedelta(days=moment.weekday())).isoformat()


def _locked(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return True
    taken = conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    return bool(taken.scalar())


def stale_tickets(conn: Connection, limit: int, tag: str = "") -> list[str]:
    last = conn.execute(text("SELECT MAX(refreshed_at) FROM metric_ticket_facts")).scalar()
    since = _EPOCH
    if last is not None:
        moment = datetime.fromisoformat(last) if isinstance(last, str) else last
        since = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) - MARGIN
    statement = text(_STALE + " LIMIT :limit").bindparams(bindparam("since", type_=UTCDateTime()))
    return list(conn.execute(statement, {"since": since, "limit": limit, "tag": tag}).scalars())


# An action's place in its agent's timeline: by time, then id (as the handle-time view).
_AFTER = "(n.at > a.at OR (n.at = a.at AND n.action_id > a.action_id))"
_NEXT = (
    "SELECT (SELECT n.action_id FROM metric_action_facts n WHERE n.agent = a.agent "
    f"AND {_AFTER} ORDER BY n.at, n.action_id LIMIT 1) FROM metric_action_facts a "
    "WHERE a.ticket_id IN :ids"
)
_GAPS = (
    "UPDATE metric_action_facts SET gap_seconds = at_epoch - (SELECT MAX(p.at_epoch) "
    "FROM metric_action_facts p WHERE p.agent = metric_action_facts.agent "
    "AND (p.at < metric_action_facts.at OR (p.at = metric_action_facts.at "
    "AND p.action_id < metric_action_facts.action_id))) WHERE action_id IN :actions"
)


def _gaps(conn: Connection, ticket_ids: list[str]) -> list[str]:
    """Gaps of these tickets' actions and of the action after each (its previous one may
    be new): refreshes in any order leave every gap as the handle-time view has it.
    Returns those following actions (their days' rollups change too)."""
    ids: BindParameter[Any] = bindparam("ids", expanding=True)
    following = [
        a for a in conn.execute(text(_NEXT).bindparams(ids), {"ids": ticket_ids}).scalars() if a
    ]
    own = text("SELECT action_id FROM metric_action_facts WHERE ticket_id IN :ids")
    actions = [*conn.execute(own.bindparams(ids), {"ids": ticket_ids}).scalars(), *following]
    for start in range(0, len(actions), BATCH):
        chunk = actions[start : start + BATCH]
        conn.execute(
            text(_GAPS).bindparams(bindparam("actions", expanding=True)), {"actions": chunk}
        )
    return following


def refresh_tickets(
    conn: Connection,
    ticket_ids: Sequence[str],
    now: datetime,
    config: MetricsConfig | None = None,
) -> None:
    """Copy these tickets' rows from the views again, with their business-hour timings,
    and recompute the daily rollups of every day they touch (the caller commits)."""
    config = config or MetricsConfig()
    listed = list(ticket_ids)
    ids: dict[str, Any] = {"ids": listed, "now": now}
    days = touched_days(conn, listed, [])
    for table in _TABLES:
        delete = text(f"DELETE FROM {table} WHERE ticket_id IN :ids")
        conn.execute(delete.bindparams(bindparam("ids", expanding=True)), ids)
    for copy in _copies("WHERE {column} IN :ids", config):
        conn.execute(_bound(copy, bindparam("ids", expanding=True)), ids)
    update_business_seconds(conn, config.hours, listed)
    following = _gaps(conn, listed)
    days |= touched_days(conn, listed, following)
    recompute_days(conn, days)
    histogram.recompute(conn, {week_of(day) for day in days})


def refresh_stale(
    engine: Engine,
    *,
    limit: int = 5000,
    now: datetime | None = None,
    config: MetricsConfig | None = None,
) -> int:
    """Refresh up to ``limit`` stale tickets, ``BATCH`` per transaction; how many."""
    config = config or MetricsConfig()
    done = 0
    while done < limit:
        with engine.begin() as conn:
            if not _locked(conn):
                return done  # another process is refreshing
            tune_planner(conn)
            batch = stale_tickets(conn, min(BATCH, limit - done), config.tag)
            if not batch:
                return done
            refresh_tickets(conn, batch, now or utcnow(), config)
        done += len(batch)
    return done


def rebuild(
    engine: Engine, now: datetime | None = None, config: MetricsConfig | None = None
) -> None:
    """Copy every view row again (after a bulk import): one pass, no per-ticket lookups."""
    with engine.begin() as conn:
        if not _locked(conn):
            raise RuntimeError("another process is refreshing the metric facts")
        for table in _TABLES:
            conn.execute(text(f"DELETE FROM {table}"))
        # In time order: a date range then reads neighbouring pages, not one page per row.
        orders = ("ORDER BY mt.created_at", "ORDER BY created_at", "ORDER BY at")
        config = config or MetricsConfig()
        for copy, order in zip(_copies("", config, gaps=True), orders, strict=True):
            conn.execute(_bound(f"{copy} {order}"), {"now": now or utcnow()})
        update_business_seconds(conn, config.hours, None)
        recompute_all(conn)
        histogram.recompute(conn, None)
        for table in (*_TABLES, *(t for t, *_ in ROLLUPS), "metric_timing_histogram"):
            conn.execute(text(f"ANALYZE {table}"))


class MetricRefresher:
    """A background-worker step (app/services/workers.py): refresh what went stale."""

    def __init__(
        self, engine: Engine, *, limit: int = BATCH, config: MetricsConfig | None = None
    ) -> None:
        self.engine = engine
        self.limit = limit
        self.config = config or MetricsConfig()

    def run_once(self) -> int:
        refreshed = refresh_stale(self.engine, limit=self.limit, config=self.config)
        if refreshed:
            log.info("metric facts refreshed", extra={"tickets": refreshed})
        return refreshed
