"""The metric views against hand-computed numbers, on SQLite and on PostgreSQL.

The timeline is in metric_fixture.py; every expected row below follows from it.  Both
backends must give exactly these rows (after plain(): instants as ISO text).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from tests.app.operations.metric_fixture import query

N = None

TICKET_COLUMNS = (
    "ticket_id, day, week, channel, category, priority, team, language, status, assignee, "
    "predicted_category, predicted_priority, self_service, drafts, follow_ups, reopens, "
    "seconds_to_first_draft, seconds_to_first_response, seconds_to_approval, "
    "seconds_to_resolution, sla_tracked, sla_paused, sla_breached, sla_first_response_breached, "
    "sla_next_response_breached, sla_resolution_breached"
)
TICKETS = [
    ("tkt_01", "2024-03-04", "2024-03-04", "api", "auth", "P1", "platform", "en", "solved",
     "alice", "auth", "P2", 0, 1, 0, 0, 30, 600, 600, 3600, 1, 0, 0, 0, 0, 0),
    ("tkt_02", "2024-03-05", "2024-03-04", "slack", "payouts", "P2", "payments", "es",
     "approved", "bob", "payouts", "P2", 0, 1, 0, 0, 120, 3600, 3600, N, 1, 0, 1, 0, 0, 1),
    ("tkt_03", "2024-03-06", "2024-03-04", "widget", "auth", "P3", "platform", "en", "solved",
     N, "webhooks", "P3", 1, 2, 1, 1, 10, 2400, N, 10800, 1, 0, 1, 1, 0, 0),
    ("tkt_04", "2024-03-11", "2024-03-11", "api", "auth", "P1", "platform", "en", "sent",
     N, "auth", "P1", 0, 2, 0, 0, 60, 300, 300, N, 0, 0, N, N, N, N),
    ("tkt_05", "2024-03-12", "2024-03-11", "api", "payouts", "P1", "payments", "pt",
     "pending_review", "bob", "payouts", "P1", 0, 1, 0, 0, 20, N, N, N, 1, 0, 1, 1, 0, 0),
    ("tkt_06", "2024-03-12", "2024-03-11", "email", N, "P4", N, "unknown", "pending_review",
     N, N, N, 0, 0, 0, 0, N, N, N, N, 1, 1, 0, 0, 0, 0),
]  # fmt: skip


def _tuples(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) for r in rows]


def test_per_ticket_facts(loaded: Engine) -> None:
    rows = query(loaded, f"SELECT {TICKET_COLUMNS} FROM metric_tickets ORDER BY ticket_id")
    assert _tuples(rows) == TICKETS


def test_per_ticket_instants_and_week_numbers(loaded: Engine) -> None:
    rows = query(
        loaded,
        "SELECT ticket_id, created_at, first_draft_at, first_response_at, first_approval_at, "
        "resolved_at, week_number FROM metric_tickets WHERE ticket_id IN ('tkt_01', 'tkt_04') "
        "ORDER BY ticket_id",
    )
    first, fourth = rows
    assert (first["created_at"], first["first_draft_at"]) == (
        "2024-03-04T09:00:00Z",
        "2024-03-04T09:00:30Z",
    )
    assert (first["first_response_at"], first["first_approval_at"], first["resolved_at"]) == (
        "2024-03-04T09:10:00Z",
        "2024-03-04T09:10:00Z",
        "2024-03-04T10:00:00Z",
    )
    # Weeks since 1970-01-05; the next week is the next number.
    assert first["week_number"] == (1709542800 - 345600) // 604800
    assert fourth["week_number"] == first["week_number"] + 1
    assert fourth["resolved_at"] is None


def test_volume_by_day_and_week(loaded: Engine) -> None:
    daily = query(
        loaded,
        "SELECT day, channel, category, priority, language, team, tickets, self_service_tickets "
        "FROM metric_volume_daily ORDER BY day, channel",
    )
    assert _tuples(daily) == [
        ("2024-03-04", "api", "auth", "P1", "en", "platform", 1, 0),
        ("2024-03-05", "slack", "payouts", "P2", "es", "payments", 1, 0),
        ("2024-03-06", "widget", "auth", "P3", "en", "platform", 1, 1),
        ("2024-03-11", "api", "auth", "P1", "en", "platform", 1, 0),
        ("2024-03-12", "api", "payouts", "P1", "pt", "payments", 1, 0),
        ("2024-03-12", "email", N, "P4", "unknown", N, 1, 0),
    ]
    weekly = query(
        loaded,
        "SELECT week, SUM(tickets) AS tickets, SUM(self_service_tickets) AS ss "
        "FROM metric_volume_weekly GROUP BY week ORDER BY week",
    )
    assert _tuples(weekly) == [("2024-03-04", 3, 1), ("2024-03-11", 3, 0)]


def test_timings_and_nearest_rank_percentiles(loaded: Engine) -> None:
    timings = query(
        loaded,
        "SELECT ticket_id, measure, seconds FROM metric_ticket_timings "
        "WHERE seconds IS NOT NULL AND priority = 'P1' ORDER BY ticket_id, measure",
    )
    assert _tuples(timings) == [
        ("tkt_01", "approval", 600),
        ("tkt_01", "first_draft", 30),
        ("tkt_01", "first_response", 600),
        ("tkt_01", "resolution", 3600),
        ("tkt_04", "approval", 300),
        ("tkt_04", "first_draft", 60),
        ("tkt_04", "first_response", 300),
        ("tkt_05", "first_draft", 20),
    ]
    percentiles = query(
        loaded,
        "SELECT week, priority, measure, tickets, p50_seconds, p90_seconds, p95_seconds, "
        "max_seconds FROM metric_timing_percentiles_weekly ORDER BY week, priority, measure",
    )
    assert _tuples(percentiles) == [
        ("2024-03-04", "P1", "approval", 1, 600, 600, 600, 600),
        ("2024-03-04", "P1", "first_draft", 1, 30, 30, 30, 30),
        ("2024-03-04", "P1", "first_response", 1, 600, 600, 600, 600),
        ("2024-03-04", "P1", "resolution", 1, 3600, 3600, 3600, 3600),
        ("2024-03-04", "P2", "approval", 1, 3600, 3600, 3600, 3600),
        ("2024-03-04", "P2", "first_draft", 1, 120, 120, 120, 120),
        ("2024-03-04", "P2", "first_response", 1, 3600, 3600, 3600, 3600),
        ("2024-03-04", "P3", "first_draft", 1, 10, 10, 10, 10),
        ("2024-03-04", "P3", "first_response", 1, 2400, 2400, 2400, 2400),
        ("2024-03-04", "P3", "resolution", 1, 10800, 10800, 10800, 10800),
        ("2024-03-11", "P1", "approval", 1, 300, 300, 300, 300),
        # [20, 60]: rank ceil(0.5 * 2) = 1 for p50, ceil(0.9 * 2) = 2 for p90 and p95.
        ("2024-03-11", "P1", "first_draft", 2, 20, 60, 60, 60),
        ("2024-03-11", "P1", "first_response", 1, 300, 300, 300, 300),
    ]


def test_sla_attainment_and_breaches(loaded: Engine) -> None:
    columns = (
        "tickets, tracked, breached, first_response_breached, next_response_breached, "
        "resolution_breached, attainment"
    )
    by_priority = query(
        loaded, f"SELECT priority, {columns} FROM metric_sla_by_priority ORDER BY priority"
    )
    assert _tuples(by_priority) == [
        ("P1", 3, 2, 1, 1, 0, 0, 0.5),
        ("P2", 1, 1, 1, 0, 0, 1, 0.0),
        ("P3", 1, 1, 1, 1, 0, 0, 0.0),
        ("P4", 1, 1, 0, 0, 0, 0, 1.0),
    ]
    weekly = query(
        loaded, f"SELECT week, priority, {columns} FROM metric_sla_weekly ORDER BY week, priority"
    )
    assert _tuples(weekly) == [
        ("2024-03-04", "P1", 1, 1, 0, 0, 0, 0, 1.0),
        ("2024-03-04", "P2", 1, 1, 1, 0, 0, 1, 0.0),
        ("2024-03-04", "P3", 1, 1, 1, 1, 0, 0, 0.0),
        ("2024-03-11", "P1", 2, 1, 1, 1, 0, 0, 0.0),
        ("2024-03-11", "P4", 1, 1, 0, 0, 0, 0, 1.0),
    ]


def test_team_daily(loaded: Engine) -> None:
    rows = query(
        loaded,
        "SELECT day, team, opened, responded, solved, sla_breached FROM metric_team_daily "
        "ORDER BY day, opened, team",
    )
    assert sorted(_tuples(rows), key=repr) == sorted(
        [
            ("2024-03-04", "platform", 1, 1, 1, 0),
            ("2024-03-05", "payments", 1, 1, 0, 1),
            ("2024-03-06", "platform", 1, 1, 1, 1),
            ("2024-03-11", "platform", 1, 1, 0, 0),
            ("2024-03-12", "payments", 1, 0, 0, 1),
            ("2024-03-12", N, 1, 0, 0, 0),
        ],
        key=repr,
    )


def test_draft_outcomes(loaded: Engine) -> None:
    rows = query(
        loaded,
        "SELECT draft_id, week, drafter, model, outcome, rewritten_by_hand, edit_distance, "
        "reject_reason, reviewer, reviewer_name, decided_at, seconds_to_decision, "
        "prompt_tokens, completion_tokens, total_tokens FROM metric_draft_outcomes "
        "ORDER BY draft_id",
    )
    assert _tuples(rows) == [
        ("drf_1", "2024-03-04", "offline", N, "approved_unedited", 0, 0, N, "tok_A:alice",
         "alice", "2024-03-04T09:10:00Z", 570, N, N, N),
        ("drf_2", "2024-03-04", "llm", "gpt-test", "edited", 0, 7, N, "tok_B:bob", "bob",
         "2024-03-05T15:00:00Z", 3480, 100, 50, 150),
        ("drf_3", "2024-03-04", "offline", N, "rejected", 1, N, "inaccurate", "tok_A:alice",
         "alice", "2024-03-06T08:30:00Z", 1790, N, N, N),
        ("drf_5", "2024-03-04", "offline", N, "pending", 0, N, N, N, N, N, N, N, N, N),
        ("drf_6", "2024-03-11", "offline", N, "superseded", 0, N, N, N, N, N, N, N, N, N),
        ("drf_7", "2024-03-11", "offline", N, "auto_sent", 0, 0, N, "system:auto-send", N,
         "2024-03-11T10:05:00Z", 0, N, N, N),
        ("drf_8", "2024-03-11", "offline", N, "pending", 0, N, N, N, N, N, N, N, N, N),
    ]  # fmt: skip


def test_acceptance_funnel_and_reject_reasons(loaded: Engine) -> None:
    rows = query(
        loaded,
        "SELECT week, category, drafter, drafts, approved_unedited, edited, rejected, "
        "rewritten, auto_sent, superseded, pending, rewritten_by_hand, reviewed, "
        "edit_distance_total, acceptance_rate, unedited_rate "
        "FROM metric_draft_acceptance_weekly ORDER BY week, category, drafter",
    )
    assert _tuples(rows) == [
        ("2024-03-04", "auth", "offline", 3, 1, 0, 1, 0, 0, 0, 1, 1, 2, 0, 0.5, 0.5),
        ("2024-03-04", "payouts", "llm", 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 7, 1.0, 0.0),
        ("2024-03-11", "auth", "offline", 2, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, N, N),
        ("2024-03-11", "payouts", "offline", 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, N, N),
    ]
    reasons = query(
        loaded, "SELECT week, category, reject_reason, drafts FROM metric_reject_reasons_weekly"
    )
    assert _tuples(reasons) == [("2024-03-04", "auth", "inaccurate", 1)]


def test_llm_usage(loaded: Engine) -> None:
    rows = query(
        loaded,
        "SELECT day, drafter, model, drafts, drafts_with_usage, prompt_tokens, "
        "completion_tokens FROM metric_llm_usage_daily ORDER BY day, drafter",
    )
    assert _tuples(rows) == [
        ("2024-03-04", "offline", N, 1, 0, 0, 0),
        ("2024-03-05", "llm", "gpt-test", 1, 1, 100, 50),
        ("2024-03-06", "offline", N, 2, 0, 0, 0),
        ("2024-03-11", "offline", N, 2, 0, 0, 0),
        ("2024-03-12", "offline", N, 1, 0, 0, 0),
    ]


def test_triage_accuracy(loaded: Engine) -> None:
    rows = query(
        loaded,
        "SELECT field, predicted, final, tickets, reviewed, corrected FROM metric_triage_accuracy",
    )
    assert sorted(_tuples(rows), key=repr) == sorted(
        [
            ("category", "auth", "auth", 2, 1, 0),
            ("category", "payouts", "payouts", 2, 1, 0),
            ("category", "webhooks", "auth", 1, 1, 1),
            ("category", N, N, 1, 0, 0),
            ("priority", "P2", "P1", 1, 1, 1),
            ("priority", "P2", "P2", 1, 1, 0),
            ("priority", "P3", "P3", 1, 1, 0),
            ("priority", "P1", "P1", 2, 0, 0),
            ("priority", N, "P4", 1, 0, 0),
        ],
        key=repr,
    )


def test_agent_actions_handle_times_and_daily_throughput(loaded: Engine) -> None:
    actions = query(
        loaded,
        "SELECT agent_name, ticket_id, day, action, gap_seconds, handle_seconds "
        "FROM metric_agent_handle_times ORDER BY agent, at",
    )
    assert _tuples(actions) == [
        ("alice", "tkt_01", "2024-03-04", "assigned", N, N),
        ("alice", "tkt_01", "2024-03-04", "approve", 300, 300),
        ("alice", "tkt_01", "2024-03-04", "solved", 3000, N),  # over 30 min: idle
        ("alice", "tkt_03", "2024-03-06", "reject", 167400, N),
        ("alice", "tkt_03", "2024-03-06", "reply", 600, 600),
        ("alice", "tkt_03", "2024-03-06", "solved", 1200, 1200),
        ("bob", "tkt_02", "2024-03-05", "edit", N, N),
        ("bob", "tkt_03", "2024-03-06", "note", 69600, N),
        ("bob", "tkt_03", "2024-03-06", "solved", 2400, N),
    ]
    daily = query(
        loaded,
        "SELECT agent_name, day, actions, tickets, approvals, edits, rejections, escalations, "
        "replies, notes, solves, timed_actions, handle_seconds_total FROM metric_agent_daily "
        "ORDER BY agent_name, day",
    )
    assert _tuples(daily) == [
        ("alice", "2024-03-04", 3, 1, 1, 0, 0, 0, 0, 0, 1, 1, 300),
        ("alice", "2024-03-06", 3, 1, 0, 0, 1, 0, 1, 0, 1, 2, 1800),
        ("bob", "2024-03-05", 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0),
        ("bob", "2024-03-06", 2, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0),
    ]


def test_citations_and_signals_flattened(loaded: Engine) -> None:
    citations = query(
        loaded,
        "SELECT draft_id, doc_id, chunk_id, source FROM metric_draft_citations "
        "ORDER BY draft_id, chunk_id",
    )
    assert _tuples(citations) == [
        ("drf_1", "docs/auth", "c1", "docs/auth.md"),
        ("drf_2", "docs/payouts", "c2", N),
        ("drf_2", "docs/auth", "c3", N),
    ]
    signals = query(
        loaded, "SELECT ticket_id, kind, value FROM metric_ticket_signals ORDER BY ticket_id, kind"
    )
    assert _tuples(signals) == [
        ("tkt_01", "error_code", "E_AUTH_401"),
        ("tkt_01", "http_status", "401"),
        ("tkt_01", "request_id", "req_123abc"),
        ("tkt_02", "error_code", "E_PAYOUT_STUCK"),
        ("tkt_03", "request_id", "req_999zzz"),
        ("tkt_03", "unknown_error_code", "E_WEIRD_9"),
    ]
