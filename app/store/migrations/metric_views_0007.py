"""The metric views of migration 0007, as DDL for one dialect.

Every column is documented in docs/metrics.md.  The per-ticket view computes each
timing with its own correlated subquery on purpose: PostgreSQL drops the view columns a
query does not read, so a query that needs only volumes never touches drafts or
messages, and a date-range query looks up only the tickets in its range (indexes).

Frozen with migration 0007 (a later change of a view is a new migration with its own
copy).  SQLite checks views when a table is renamed, so a later migration that rebuilds
a table these views read (``batch_alter_table``) must call ``drop_views`` first and
``create_views`` after.
"""

from __future__ import annotations

from collections.abc import Callable

from app.store.migrations.metric_sql import Sql

# The approval actor of auto-sent drafts (app/services/tickets.py AUTO_SEND_ACTOR).
AUTO_SEND_ACTOR = "system:auto-send"
# An agent's handwritten reply is stored as a draft with this drafter.
AGENT_DRAFTER = "agent"
# A gap between one agent's consecutive actions longer than this is idle time.
IDLE_AFTER_SECONDS = 1800
# Conversation events that are an agent's own work (ticket_messages.event).
AGENT_EVENTS = (
    "solved",
    "reopened",
    "assigned",
    "unassigned",
    "recategorized",
    "merged",
    "awaiting_customer",
)
TIMING_MEASURES = ("first_draft", "first_response", "approval", "resolution")


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


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


def _draft_outcomes(q: Sql) -> str:
    drafter = q.json_text("d.provenance", "drafter")
    replied = "d.status IN ('approved', 'sent')"
    next_drafter = q.json_text("n.provenance", "drafter")
    # The next version is the agent's own reply: they wrote it instead of this draft.
    replaced_by_agent = f"COALESCE({next_drafter}, '') = '{AGENT_DRAFTER}'"

    def rejection(column: str) -> str:
        return f"MIN(CASE WHEN r.action = 'reject' THEN r.{column} END)"

    decided = (
        f"CASE WHEN {replied} THEN d.approved_at "
        f"WHEN d.status = 'rejected' THEN {rejection('created_at')} END"
    )

    def tokens(key: str) -> str:
        return f"CAST({q.json_text('d.provenance', key)} AS INTEGER)"

    reviewer = (
        f"CASE WHEN {replied} THEN d.approved_by "
        f"WHEN d.status = 'rejected' THEN {rejection('reviewer')} END"
    )
    return f"""
SELECT
  d.id AS draft_id,
  t.id AS ticket_id,
  d.version AS version,
  d.created_at AS created_at,
  t.created_at AS ticket_created_at,
  {q.day("d.created_at")} AS day,
  {q.week("d.created_at")} AS week,
  t.channel AS channel,
  t.category AS category,
  t.priority AS priority,
  t.team AS team,
  COALESCE({drafter}, 'unknown') AS drafter,
  {q.json_text("d.provenance", "model")} AS model,
  d.confidence AS confidence,
  CASE WHEN d.needs_human THEN 1 ELSE 0 END AS needs_human,
  d.status AS draft_status,
  CASE
    WHEN {replied} AND d.approved_by = '{AUTO_SEND_ACTOR}' THEN 'auto_sent'
    WHEN {replied} AND d.final_text IS NOT NULL AND d.final_text <> d.text THEN 'edited'
    WHEN {replied} THEN 'approved_unedited'
    WHEN d.status = 'rejected' THEN 'rejected'
    WHEN d.status = 'superseded' AND {replaced_by_agent} THEN 'rewritten'
    WHEN d.status = 'superseded' THEN 'superseded'
    ELSE 'pending'
  END AS outcome,
  CASE WHEN d.status IN ('rejected', 'superseded') AND {replaced_by_agent}
    THEN 1 ELSE 0 END AS rewritten_by_hand,
  MAX(CASE WHEN r.action IN ('approve', 'edit') THEN r.edit_distance END) AS edit_distance,
  {rejection("reason_code")} AS reject_reason,
  {reviewer} AS reviewer,
  CASE WHEN ({reviewer}) LIKE 'tok%' THEN {q.after_colon(reviewer)} END AS reviewer_name,
  {decided} AS decided_at,
  {q.seconds("d.created_at", decided)} AS seconds_to_decision,
  {tokens("prompt_tokens")} AS prompt_tokens,
  {tokens("completion_tokens")} AS completion_tokens,
  {tokens("prompt_tokens")} + {tokens("completion_tokens")} AS total_tokens
FROM drafts d
JOIN tickets t ON t.id = d.ticket_id
LEFT JOIN drafts n ON n.ticket_id = d.ticket_id AND n.version = d.version + 1
LEFT JOIN review_events r ON r.draft_id = d.id
WHERE COALESCE({drafter}, '') <> '{AGENT_DRAFTER}'
-- created_at is grouped on so that a date range on the view filters drafts first.
GROUP BY d.id, d.created_at, t.id, n.id"""


def _count(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _acceptance() -> str:
    reviewed = "outcome IN ('approved_unedited', 'edited', 'rejected', 'rewritten')"
    accepted = "outcome IN ('approved_unedited', 'edited')"
    outcomes = ("approved_unedited", "edited", "rejected", "rewritten", "auto_sent")
    counts = ",\n  ".join(_count(f"outcome = '{o}'") + f" AS {o}" for o in outcomes)
    return f"""
SELECT week, category, drafter, COUNT(*) AS drafts,
  {counts},
  {_count("outcome = 'superseded'")} AS superseded,
  {_count("outcome = 'pending'")} AS pending,
  SUM(rewritten_by_hand) AS rewritten_by_hand,
  {_count(reviewed)} AS reviewed,
  CAST(COALESCE(SUM(CASE WHEN outcome = 'edited' THEN edit_distance END), 0) AS BIGINT)
    AS edit_distance_total,
  CAST({_count(accepted)} AS DOUBLE PRECISION) / NULLIF({_count(reviewed)}, 0)
    AS acceptance_rate,
  CAST({_count("outcome = 'approved_unedited'")} AS DOUBLE PRECISION)
    / NULLIF({_count(reviewed)}, 0) AS unedited_rate
FROM metric_draft_outcomes
GROUP BY week, category, drafter"""


_REJECT_REASONS = """
SELECT week, category, reject_reason, COUNT(*) AS drafts
FROM metric_draft_outcomes
WHERE outcome = 'rejected'
GROUP BY week, category, reject_reason"""


def _accuracy() -> str:
    human = "LIKE 'tok%'"
    reviewed = (
        f"CASE WHEN EXISTS (SELECT 1 FROM review_events r WHERE r.ticket_id = mt.ticket_id "
        f"AND r.reviewer {human}) OR EXISTS (SELECT 1 FROM ticket_corrections c "
        "WHERE c.ticket_id = mt.ticket_id) THEN 1 ELSE 0 END"
    )
    parts = []
    for field in ("category", "priority"):
        corrected = (
            "CASE WHEN EXISTS (SELECT 1 FROM ticket_corrections c WHERE "
            f"c.ticket_id = mt.ticket_id AND c.field = '{field}') THEN 1 ELSE 0 END"
        )
        parts.append(f"""
SELECT '{field}' AS field, predicted, final, COUNT(*) AS tickets,
  SUM(reviewed) AS reviewed, SUM(corrected) AS corrected
FROM (SELECT mt.predicted_{field} AS predicted, mt.{field} AS final,
    {reviewed} AS reviewed, {corrected} AS corrected
  FROM metric_tickets mt) x
GROUP BY predicted, final""")
    return "\nUNION ALL".join(parts)


def _agent_actions(q: Sql) -> str:
    drafter = q.json_text("d.provenance", "drafter")
    return f"""
SELECT action_id, agent, {q.after_colon("agent")} AS agent_name, ticket_id, at,
  {q.epoch("at")} AS at_epoch, {q.day("at")} AS day, {q.week("at")} AS week, action
FROM (
  SELECT r.id AS action_id, r.reviewer AS agent, r.ticket_id AS ticket_id, r.created_at AS at,
    r.action AS action
  FROM review_events r LEFT JOIN drafts d ON d.id = r.draft_id
  WHERE r.reviewer LIKE 'tok%' AND COALESCE({drafter}, '') <> '{AGENT_DRAFTER}'
  UNION ALL
  SELECT m.id, m.author, m.ticket_id, m.created_at,
    CASE m.kind WHEN 'agent' THEN 'reply' WHEN 'note' THEN 'note' ELSE m.event END
  FROM ticket_messages m
  WHERE m.author LIKE 'tok%' AND (m.kind IN ('agent', 'note')
    OR (m.kind = 'system' AND m.event IN ({_quoted(AGENT_EVENTS)})))
) a"""


def _handle_times(q: Sql) -> str:
    gap = q.seconds("previous_at", "at")
    return f"""
SELECT action_id, agent, agent_name, ticket_id, at, day, week, action, {gap} AS gap_seconds,
  CASE WHEN {gap} <= {IDLE_AFTER_SECONDS} THEN {gap} END AS handle_seconds
FROM (
  SELECT action_id, agent, agent_name, ticket_id, at, day, week, action,
    LAG(at) OVER (PARTITION BY agent ORDER BY at, action_id) AS previous_at
  FROM metric_agent_actions
) o"""


def _agent_daily() -> str:
    kinds = {
        "approvals": "action IN ('approve', 'edit')",
        "edits": "action = 'edit'",
        "rejections": "action = 'reject'",
        "escalations": "action IN ('escalate', 'reassign')",
        "replies": "action = 'reply'",
        "notes": "action = 'note'",
        "solves": "action = 'solved'",
    }
    counts = ",\n  ".join(f"{_count(c)} AS {name}" for name, c in kinds.items())
    return f"""
SELECT agent, agent_name, day, COUNT(*) AS actions, COUNT(DISTINCT ticket_id) AS tickets,
  {counts},
  COUNT(handle_seconds) AS timed_actions,
  CAST(COALESCE(SUM(handle_seconds), 0) AS BIGINT) AS handle_seconds_total
FROM metric_agent_handle_times
GROUP BY agent, agent_name, day"""


_TEAM_DAILY = f"""
SELECT day, team, COUNT(*) AS opened,
  {_count("first_response_at IS NOT NULL")} AS responded,
  {_count("status = 'solved'")} AS solved,
  COALESCE(SUM(sla_breached), 0) AS sla_breached
FROM metric_tickets
GROUP BY day, team"""


_LLM_USAGE = """
SELECT day, drafter, model, COUNT(*) AS drafts, COUNT(total_tokens) AS drafts_with_usage,
  CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT) AS prompt_tokens,
  CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT) AS completion_tokens
FROM metric_draft_outcomes
GROUP BY day, drafter, model"""


def _citations(q: Sql) -> str:
    return f"""
SELECT d.id AS draft_id, d.ticket_id AS ticket_id, d.created_at AS created_at,
  d.status AS draft_status,
  {q.item_text("c", "doc_id")} AS doc_id,
  {q.item_text("c", "chunk_id")} AS chunk_id,
  {q.item_text("c", "source")} AS source,
  {q.item_text("c", "url")} AS url
FROM drafts d, {q.array_items("d.citations", "c")}"""


_SIGNALS = {
    "error_code": "error_codes",
    "unknown_error_code": "unknown_error_codes",
    "request_id": "request_ids",
    "idempotency_key": "idempotency_keys",
    "http_status": "http_statuses",
}


def _signals(q: Sql) -> str:
    parts = [
        f"SELECT t.id AS ticket_id, t.created_at AS created_at, '{kind}' AS kind, "
        f"{q.item_text('e')} AS value FROM tickets t, {q.array_items('t.signals', 'e', key)}"
        for kind, key in _SIGNALS.items()
    ]
    return "\n" + "\nUNION ALL\n".join(parts)


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
        ("metric_team_daily", _TEAM_DAILY),
        ("metric_draft_outcomes", _draft_outcomes(q)),
        ("metric_draft_acceptance_weekly", _acceptance()),
        ("metric_reject_reasons_weekly", _REJECT_REASONS),
        ("metric_llm_usage_daily", _LLM_USAGE),
        ("metric_triage_accuracy", _accuracy()),
        ("metric_agent_actions", _agent_actions(q)),
        ("metric_agent_handle_times", _handle_times(q)),
        ("metric_agent_daily", _agent_daily()),
        ("metric_draft_citations", _citations(q)),
        ("metric_ticket_signals", _signals(q)),
    ]


def create_views(execute: Callable[[str], object], dialect: str) -> None:
    """Create every view with ``execute(sql)`` (``op.execute`` in a migration)."""
    for name, select in view_definitions(dialect):
        execute(f"CREATE VIEW {name} AS {select}")


def drop_views(execute: Callable[[str], object], dialect: str) -> None:
    for name, _ in reversed(view_definitions(dialect)):
        execute(f"DROP VIEW IF EXISTS {name}")
