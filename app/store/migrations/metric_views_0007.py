"""The metric views of migration 0007, as DDL for one dialect: the ticket views here,
the views about work on tickets in metric_views_0007_work.py.

Every column is documented in docs/metrics.md.  The per-ticket views are grouped joins
(each draft and message read once per query, an aggregate used by several columns
computed once), grouped on the row's creation time too, so that a date range on the
view filters the tickets (or drafts) first, through their index.

Frozen with migration 0007 (a later change of a view is a new migration with its own
copy).  SQLite checks views when a table is renamed, so a later migration that rebuilds
a table these views read (``batch_alter_table``) must call ``drop_views`` first and
``create_views`` after.
"""

from __future__ import annotations

from collections.abc import Callable

from app.store.migrations import metric_views_0007_work as work
from app.store.migrations.metric_sql import Sql, count_if
from app.store.migrations.metric_views_0007_work import AGENT_DRAFTER

TIMING_MEASURES = ("first_draft", "first_response", "approval", "resolution")


def _language(q: Sql) -> str:
    return f"COALESCE({q.json_text('t.triage', 'language')}, 'unknown')"


def _self_service(q: Sql) -> str:
    source = q.json_text("t.metadata", "source")
    return f"CASE WHEN t.channel = 'widget' AND {source} = 'ask' THEN 1 ELSE 0 END"


def _tickets(q: Sql) -> str:
    """One row per ticket: its drafts and conversation events joined and grouped, so
    each is read once (an aggregate used by several columns is computed once)."""
    drafter = q.json_text("d.provenance", "drafter")
    pipeline = f"COALESCE({drafter}, '') <> '{AGENT_DRAFTER}'"
    replied = "d.status IN ('approved', 'sent')"
    event = "m.kind = 'system' AND m.event"
    first_draft = f"MIN(CASE WHEN {pipeline} THEN d.created_at END)"
    first_response = f"MIN(CASE WHEN {replied} THEN d.approved_at END)"
    first_approval = f"MIN(CASE WHEN {replied} AND {pipeline} THEN d.approved_at END)"
    resolved = (
        f"CASE WHEN t.status = 'solved' THEN MAX(CASE WHEN {event} IN ('solved', 'merged') "
        "THEN m.created_at END) END"
    )
    # A reply after the clocks were last stored closes a clock that was still open then.
    reply_since_stored = (
        f"MIN(CASE WHEN {replied} AND d.approved_at >= s.updated_at THEN d.approved_at END)"
    )
    clocks = {
        "first_response": f"COALESCE({first_response}, CURRENT_TIMESTAMP)",
        "next_response": f"COALESCE({reply_since_stored}, CURRENT_TIMESTAMP)",
        "resolution": "CURRENT_TIMESTAMP",
    }
    breaches = {
        clock: f"s.sla_{clock}_breached OR s.sla_{clock}_due < {until}"
        for clock, until in clocks.items()
    }

    def flag(condition: str) -> str:
        return f"CASE WHEN s.ticket_id IS NULL THEN NULL WHEN {condition} THEN 1 ELSE 0 END"

    any_breach = " OR ".join(["s.sla_breached", *(f"({b})" for b in breaches.values())])
    # A reopen is counted only after a solve (a reopen of a waiting ticket is not one).
    reopened = (
        f"{event} = 'reopened' AND EXISTS (SELECT 1 FROM ticket_messages p "
        "WHERE p.ticket_id = m.ticket_id AND p.kind = 'system' AND p.event = 'solved' "
        "AND p.seq < m.seq)"
    )
    return f"""
SELECT
  t.id AS ticket_id,
  t.created_at AS created_at,
  {q.day("t.created_at")} AS day,
  {q.week("t.created_at")} AS week,
  {q.week_number("t.created_at")} AS week_number,
  t.channel AS channel,
  t.category AS category,
  t.priority AS priority,
  t.team AS team,
  {_language(q)} AS language,
  t.status AS status,
  s.assignee AS assignee,
  s.merged_into AS merged_into,
  {q.json_text("t.triage", "category")} AS predicted_category,
  {q.json_text("t.triage", "priority")} AS predicted_priority,
  {_self_service(q)} AS self_service,
  COUNT(DISTINCT CASE WHEN {pipeline} THEN d.id END) AS drafts,
  COUNT(DISTINCT CASE WHEN m.kind = 'customer' THEN m.id END) AS follow_ups,
  COUNT(DISTINCT CASE WHEN {reopened} THEN m.id END) AS reopens,
  {first_draft} AS first_draft_at,
  {first_response} AS first_response_at,
  {first_approval} AS first_approval_at,
  {resolved} AS resolved_at,
  {q.seconds("t.created_at", first_draft)} AS seconds_to_first_draft,
  {q.seconds("t.created_at", first_response)} AS seconds_to_first_response,
  {q.seconds("t.created_at", first_approval)} AS seconds_to_approval,
  {q.seconds("t.created_at", resolved)} AS seconds_to_resolution,
  CASE WHEN s.ticket_id IS NULL THEN 0 ELSE 1 END AS sla_tracked,
  CASE WHEN s.sla_paused THEN 1 ELSE 0 END AS sla_paused,
  {flag(any_breach)} AS sla_breached,
  {flag(breaches["first_response"])} AS sla_first_response_breached,
  {flag(breaches["next_response"])} AS sla_next_response_breached,
  {flag(breaches["resolution"])} AS sla_resolution_breached
FROM tickets t
LEFT JOIN ticket_states s ON s.ticket_id = t.id
LEFT JOIN drafts d ON d.ticket_id = t.id
-- Only the events the columns read: fewer joined rows per ticket.
LEFT JOIN ticket_messages m ON m.ticket_id = t.id AND (
  (m.kind = 'system' AND m.event IN ('solved', 'merged', 'reopened'))
  OR (m.kind = 'customer' AND m.seq > 1))
-- created_at is grouped on so that a date range on the view filters tickets first.
GROUP BY t.id, t.created_at, s.ticket_id"""


_DIMENSIONS = "channel, category, priority, language, team"


def _volume(q: Sql, period: str) -> str:
    when = q.day("t.created_at") if period == "day" else q.week("t.created_at")
    return f"""
SELECT {period}, {_DIMENSIONS}, COUNT(*) AS tickets, SUM(self_service) AS self_service_tickets
FROM (
  SELECT {when} AS {period}, t.channel AS channel, t.category AS category,
    t.priority AS priority, {_language(q)} AS language, t.team AS team,
    {_self_service(q)} AS self_service
  FROM tickets t
) v
GROUP BY {period}, {_DIMENSIONS}"""


def _timings() -> str:
    columns = "ticket_id, created_at, day, week, channel, category, priority, team, assignee"
    parts = [
        f"SELECT {columns}, '{m}' AS measure, seconds_to_{m} AS seconds FROM metric_tickets"
        for m in TIMING_MEASURES
    ]
    return "\n" + "\nUNION ALL\n".join(parts)


def _nearest_rank(percent: int) -> str:
    # Nearest-rank percentile: the value at rank ceil(p*n/100), in integer arithmetic.
    return f"MAX(CASE WHEN rn = ({percent} * n + 99) / 100 THEN seconds END) AS p{percent}_seconds"


def _percentiles() -> str:
    return f"""
WITH ranked AS (
  SELECT week, priority, measure, seconds,
    ROW_NUMBER() OVER (PARTITION BY week, priority, measure ORDER BY seconds) AS rn,
    COUNT(*) OVER (PARTITION BY week, priority, measure) AS n
  FROM metric_ticket_timings
  WHERE seconds IS NOT NULL
)
SELECT week, priority, measure, MAX(n) AS tickets,
  {_nearest_rank(50)}, {_nearest_rank(90)}, {_nearest_rank(95)},
  MAX(seconds) AS max_seconds
FROM ranked
GROUP BY week, priority, measure"""


def _sla(keys: str) -> str:
    def total(column: str) -> str:
        return f"COALESCE(SUM({column}), 0)"

    return f"""
SELECT {keys}, COUNT(*) AS tickets, SUM(sla_tracked) AS tracked,
  {total("sla_breached")} AS breached,
  {total("sla_first_response_breached")} AS first_response_breached,
  {total("sla_next_response_breached")} AS next_response_breached,
  {total("sla_resolution_breached")} AS resolution_breached,
  CAST(SUM(sla_tracked) - {total("sla_breached")} AS DOUBLE PRECISION)
    / NULLIF(SUM(sla_tracked), 0) AS attainment
FROM metric_tickets
GROUP BY {keys}"""


def _team_daily() -> str:
    return f"""
SELECT day, team, COUNT(*) AS opened,
  {count_if("first_response_at IS NOT NULL")} AS responded,
  {count_if("status = 'solved'")} AS solved,
  COALESCE(SUM(sla_breached), 0) AS sla_breached
FROM metric_tickets
GROUP BY day, team"""


def view_definitions(dialect: str) -> list[tuple[str, str]]:
    """(name, SELECT) for every view, in creation order (a view after those it reads)."""
    q = Sql(dialect)
    return [
        ("metric_tickets", _tickets(q)),
        ("metric_volume_daily", _volume(q, "day")),
        ("metric_volume_weekly", _volume(q, "week")),
        ("metric_ticket_timings", _timings()),
        ("metric_timing_percentiles_weekly", _percentiles()),
        ("metric_sla_by_priority", _sla("priority")),
        ("metric_sla_weekly", _sla("week, priority")),
        ("metric_team_daily", _team_daily()),
        ("metric_draft_outcomes", work.draft_outcomes(q)),
        ("metric_draft_acceptance_weekly", work.acceptance()),
        ("metric_reject_reasons_weekly", work.REJECT_REASONS),
        ("metric_llm_usage_daily", work.LLM_USAGE),
        ("metric_triage_accuracy", work.accuracy()),
        ("metric_agent_actions", work.agent_actions(q)),
        ("metric_agent_handle_times", work.handle_times(q)),
        ("metric_agent_daily", work.agent_daily()),
        ("metric_draft_citations", work.citations(q)),
        ("metric_ticket_signals", work.signals(q)),
    ]


def create_views(execute: Callable[[str], object], dialect: str) -> None:
    """Create every view with ``execute(sql)`` (``op.execute`` in a migration)."""
    for name, select in view_definitions(dialect):
        execute(f"CREATE VIEW {name} AS {select}")


def drop_views(execute: Callable[[str], object], dialect: str) -> None:
    for name, _ in reversed(view_definitions(dialect)):
        execute(f"DROP VIEW IF EXISTS {name}")
