"""The metric views of migration 0007 about work on tickets: drafts and their outcomes,
triage accuracy, agents' actions, citations and signals (DDL for one dialect).

Frozen with migration 0007, like metric_views_0007.py, which assembles all views.
"""

from __future__ import annotations

from app.store.migrations.metric_sql import Sql, count_if

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


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def draft_outcomes(q: Sql) -> str:
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


def acceptance() -> str:
    reviewed = "outcome IN ('approved_unedited', 'edited', 'rejected', 'rewritten')"
    accepted = "outcome IN ('approved_unedited', 'edited')"
    outcomes = ("approved_unedited", "edited", "rejected", "rewritten", "auto_sent")
    counts = ",\n  ".join(count_if(f"outcome = '{o}'") + f" AS {o}" for o in outcomes)
    return f"""
SELECT week, category, drafter, COUNT(*) AS drafts,
  {counts},
  {count_if("outcome = 'superseded'")} AS superseded,
  {count_if("outcome = 'pending'")} AS pending,
  SUM(rewritten_by_hand) AS rewritten_by_hand,
  {count_if(reviewed)} AS reviewed,
  CAST(COALESCE(SUM(CASE WHEN outcome = 'edited' THEN edit_distance END), 0) AS BIGINT)
    AS edit_distance_total,
  CAST({count_if(accepted)} AS DOUBLE PRECISION) / NULLIF({count_if(reviewed)}, 0)
    AS acceptance_rate,
  CAST({count_if("outcome = 'approved_unedited'")} AS DOUBLE PRECISION)
    / NULLIF({count_if(reviewed)}, 0) AS unedited_rate
FROM metric_draft_outcomes
GROUP BY week, category, drafter"""


REJECT_REASONS = """
SELECT week, category, reject_reason, COUNT(*) AS drafts
FROM metric_draft_outcomes
WHERE outcome = 'rejected'
GROUP BY week, category, reject_reason"""


def accuracy() -> str:
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


def agent_actions(q: Sql) -> str:
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


def handle_times(q: Sql) -> str:
    gap = q.seconds("previous_at", "at")
    return f"""
SELECT action_id, agent, agent_name, ticket_id, at, day, week, action, {gap} AS gap_seconds,
  CASE WHEN {gap} <= {IDLE_AFTER_SECONDS} THEN {gap} END AS handle_seconds
FROM (
  SELECT action_id, agent, agent_name, ticket_id, at, day, week, action,
    LAG(at) OVER (PARTITION BY agent ORDER BY at, action_id) AS previous_at
  FROM metric_agent_actions
) o"""


def agent_daily() -> str:
    kinds = {
        "approvals": "action IN ('approve', 'edit')",
        "edits": "action = 'edit'",
        "rejections": "action = 'reject'",
        "escalations": "action IN ('escalate', 'reassign')",
        "replies": "action = 'reply'",
        "notes": "action = 'note'",
        "solves": "action = 'solved'",
    }
    counts = ",\n  ".join(f"{count_if(c)} AS {name}" for name, c in kinds.items())
    return f"""
SELECT agent, agent_name, day, COUNT(*) AS actions, COUNT(DISTINCT ticket_id) AS tickets,
  {counts},
  COUNT(handle_seconds) AS timed_actions,
  CAST(COALESCE(SUM(handle_seconds), 0) AS BIGINT) AS handle_seconds_total
FROM metric_agent_handle_times
GROUP BY agent, agent_name, day"""


LLM_USAGE = """
SELECT day, drafter, model, COUNT(*) AS drafts, COUNT(total_tokens) AS drafts_with_usage,
  CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT) AS prompt_tokens,
  CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT) AS completion_tokens
FROM metric_draft_outcomes
GROUP BY day, drafter, model"""


def citations(q: Sql) -> str:
    return f"""
SELECT d.id AS draft_id, d.ticket_id AS ticket_id, d.created_at AS created_at,
  d.status AS draft_status,
  {q.item_text("c", "doc_id")} AS doc_id,
  {q.item_text("c", "chunk_id")} AS chunk_id,
  {q.item_text("c", "source")} AS source,
  {q.item_text("c", "url")} AS url
FROM drafts d, {q.array_items("d.citations", "c")}"""


_SIGNAL_LISTS = {
    "error_code": "error_codes",
    "unknown_error_code": "unknown_error_codes",
    "request_id": "request_ids",
    "idempotency_key": "idempotency_keys",
    "http_status": "http_statuses",
}


def signals(q: Sql) -> str:
    parts = [
        f"SELECT t.id AS ticket_id, t.created_at AS created_at, '{kind}' AS kind, "
        f"{q.item_text('e')} AS value FROM tickets t, {q.array_items('t.signals', 'e', key)}"
        for kind, key in _SIGNAL_LISTS.items()
    ]
    return "\n" + "\nUNION ALL\n".join(parts)
