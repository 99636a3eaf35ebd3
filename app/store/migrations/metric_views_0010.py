"""The metric views of migration 0010: self-service answers and deflection, business-hour
timings and LLM cost (DDL for one dialect; columns documented in docs/metrics.md).

Deflection depends on a configured window (TRIAGE_DEFLECTION_WINDOW_HOURS), which a view
cannot read: the answers view gives each answer's time to its asker's next ticket, and
the reader applies the window (GET /v1/stats; docs/metrics.md shows the SQL).

Frozen with migration 0010 (a later change of a view is a new migration with its own copy).
"""

from __future__ import annotations

from collections.abc import Callable

from app.store.migrations.metric_sql import Sql, count_if

TIMING_MEASURES = ("first_draft", "first_response", "approval", "resolution")


def _answers(q: Sql) -> str:
    # The asker's first ticket from /help at or after the answer (index asker_key, created_at).
    next_ticket = (
        "(SELECT MIN(k.created_at) FROM asker_tickets k "
        "WHERE k.asker_key = a.asker_key AND k.created_at >= a.created_at)"
    )
    return f"""
SELECT answer_id, created_at, day, week, category, language, confidence, feedback,
  didnt_help, asker_known, next_ticket_at,
  {q.seconds("created_at", "next_ticket_at")} AS seconds_to_next_ticket
FROM (
  SELECT a.id AS answer_id, a.created_at AS created_at, {q.day("a.created_at")} AS day,
    {q.week("a.created_at")} AS week, a.category AS category, a.language AS language,
    a.confidence AS confidence, a.feedback AS feedback,
    CASE WHEN a.feedback = 'not_helpful' THEN 1 ELSE 0 END AS didnt_help,
    CASE WHEN a.asker_key IS NULL THEN 0 ELSE 1 END AS asker_known,
    CASE WHEN a.asker_key IS NOT NULL THEN {next_ticket} END AS next_ticket_at
  FROM self_service_answers a
) x"""


def _self_service_daily(q: Sql) -> str:
    source = q.json_text("t.metadata", "source")
    return f"""
SELECT day, category, language, SUM(answered) AS answered, SUM(helpful) AS helpful,
  SUM(didnt_help) AS didnt_help, SUM(asker_known) AS asker_known,
  SUM(handed_off) AS handed_off
FROM (
  SELECT day, category, language, 1 AS answered,
    CASE WHEN feedback = 'helpful' THEN 1 ELSE 0 END AS helpful, didnt_help, asker_known,
    0 AS handed_off
  FROM metric_self_service_answers
  UNION ALL
  SELECT {q.day("t.created_at")}, t.category,
    COALESCE({q.json_text("t.triage", "language")}, 'unknown'), 0, 0, 0, 0, 1
  FROM tickets t WHERE t.channel = 'widget' AND {source} = 'ask'
) s
GROUP BY day, category, language"""


def _business_timings() -> str:
    columns = "ticket_id, created_at, day, week, channel, category, priority, team, assignee"
    parts = [
        f"SELECT {columns}, '{m}' AS measure, business_seconds_to_{m} AS seconds "
        "FROM metric_ticket_facts"
        for m in TIMING_MEASURES
    ]
    return "\n" + "\nUNION ALL\n".join(parts)


LLM_COST = f"""
SELECT day, drafter, COUNT(*) AS drafts, COUNT(total_tokens) AS drafts_with_usage,
  CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT) AS prompt_tokens,
  CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT) AS completion_tokens,
  {count_if("cost IS NOT NULL")} AS drafts_with_cost, SUM(cost) AS cost
FROM metric_draft_facts
GROUP BY day, drafter"""


def view_definitions(dialect: str) -> list[tuple[str, str]]:
    q = Sql(dialect)
    return [
        ("metric_self_service_answers", _answers(q)),
        ("metric_self_service_daily", _self_service_daily(q)),
        ("metric_ticket_business_timings", _business_timings()),
        ("metric_llm_cost_daily", LLM_COST),
    ]


def create_views(execute: Callable[[str], object], dialect: str) -> None:
    for name, select in view_definitions(dialect):
        execute(f"CREATE VIEW {name} AS {select}")


def drop_views(execute: Callable[[str], object], dialect: str) -> None:
    for name, _ in reversed(view_definitions(dialect)):
        execute(f"DROP VIEW IF EXISTS {name}")
