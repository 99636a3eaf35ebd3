"""Every template under queries/ on both databases against the hand-computed fixture,
and the read-only guarantees of the runner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from app.operations.investigations.queries import (
    TemplateError,
    bind,
    catalogue,
    check_read_only,
    find,
    parse,
)
from app.operations.investigations.sql_runner import ReadOnlyViolation, run_read_only, run_template
from app.store.models import Ticket

N = None
ALICE, BOB = "tok_A:alice", "tok_B:bob"


def run(engine: Engine, name: str, **given: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in run_template(engine, find(name), given).rows]


def test_every_template_parses_and_declares_its_parameters() -> None:
    templates = catalogue()
    assert set(templates) == {
        "ticket_history",
        "request_history",
        "drafts_citing_doc",
        "tickets_with_error_code",
        "categories_trending",
        "reopened_tickets",
        "breaches_by_agent",
    }
    assert all(t.description for t in templates.values())


T3_HISTORY = [
    ("2024-03-06T08:00:00Z", "message", "customer", "dev@example.com", "…"),
    ("2024-03-06T08:00:10Z", "draft", "rejected", N, "draft"),
    ("2024-03-06T08:30:00Z", "review", "reject", ALICE, "inaccurate"),
    ("2024-03-06T08:40:00Z", "draft", "sent", ALICE, "hand"),
    ("2024-03-06T08:40:00Z", "message", "agent", ALICE, "hand"),
    ("2024-03-06T08:40:00Z", "review", "approve", ALICE, "edit distance 0"),
    ("2024-03-06T09:00:00Z", "message", "system", ALICE, "solved"),
    ("2024-03-06T10:00:00Z", "message", "customer", "dev@example.com", "still broken"),
    ("2024-03-06T10:00:00Z", "message", "system", "public:help", "reopened"),
    ("2024-03-06T10:00:05Z", "draft", "pending", N, "draft"),
    ("2024-03-06T10:20:00Z", "message", "note", BOB, "internal"),
    ("2024-03-06T11:00:00Z", "message", "system", BOB, "solved"),
]


def test_ticket_history(loaded: Engine) -> None:
    assert run(loaded, "ticket_history", ticket_id="tkt_03") == T3_HISTORY
    # No stored conversation yet: the ticket's own message comes first.
    assert run(loaded, "ticket_history", ticket_id="tkt_04") == [
        ("2024-03-11T10:00:00Z", "message", "customer", "dev@example.com", "help"),
        ("2024-03-11T10:01:00Z", "draft", "superseded", N, "draft"),
        ("2024-03-11T10:05:00Z", "draft", "sent", "system:auto-send", "draft"),
        ("2024-03-11T10:05:00Z", "review", "approve", "system:auto-send", "edit distance 0"),
    ]
    assert run(loaded, "ticket_history", ticket_id="tkt_nope") == []


def test_request_history(loaded: Engine) -> None:
    assert run(loaded, "request_history", request_id="req_999zzz") == [
        ("tkt_03", *row) for row in T3_HISTORY
    ]
    assert [r[:3] for r in run(loaded, "request_history", request_id="req_123abc")] == [
        ("tkt_01", "2024-03-04T09:00:00Z", "message"),
        ("tkt_01", "2024-03-04T09:00:30Z", "draft"),
        ("tkt_01", "2024-03-04T09:05:00Z", "message"),
        ("tkt_01", "2024-03-04T09:10:00Z", "review"),
        ("tkt_01", "2024-03-04T10:00:00Z", "message"),
    ]


def test_drafts_citing_doc(loaded: Engine) -> None:
    assert run(loaded, "drafts_citing_doc", doc_id="docs/auth") == [
        ("drf_1", "tkt_01", "2024-03-04T09:00:30Z", "c1", "sent", "approved_unedited", "auth"),
        ("drf_2", "tkt_02", "2024-03-05T14:02:00Z", "c3", "approved", "edited", "payouts"),
    ]
    assert [
        r[0] for r in run(loaded, "drafts_citing_doc", doc_id="docs/auth", since="2024-03-05")
    ] == ["drf_2"]
    assert run(loaded, "drafts_citing_doc", doc_id="docs/none") == []


def test_tickets_with_error_code(loaded: Engine) -> None:
    assert run(loaded, "tickets_with_error_code", code="e_auth_401") == [
        ("tkt_01", "2024-03-04T09:00:00Z", "solved", "auth", "P1", "signals"),
    ]
    assert [
        (r[0], r[-1]) for r in run(loaded, "tickets_with_error_code", code="E_PAYOUT_STUCK")
    ] == [
        ("tkt_02", "signals"),
        ("tkt_06", "text"),
    ]
    assert [r[0] for r in run(loaded, "tickets_with_error_code", code="E_WEIRD_9")] == ["tkt_03"]
    # LIKE wildcards in a code are literal characters.
    assert run(loaded, "tickets_with_error_code", code="E%STUCK") == []
    assert run(loaded, "tickets_with_error_code", code="E_PAYOUT_STUCK", since="2024-03-12") == [
        ("tkt_06", "2024-03-12T13:00:00Z", "pending_review", N, "P4", "text")
    ]


def test_categories_trending_week_over_week(loaded: Engine) -> None:
    assert run(loaded, "categories_trending", min_tickets="1") == [
        ("2024-03-11", "unknown", 1, 0, 1, N),
        ("2024-03-04", "auth", 2, 0, 2, N),
        ("2024-03-04", "payouts", 1, 0, 1, N),
    ]
    assert run(loaded, "categories_trending", min_tickets="2") == [
        ("2024-03-04", "auth", 2, 0, 2, N)
    ]
    assert run(loaded, "categories_trending", min_tickets="1", since="2024-03-10") == [
        ("2024-03-11", "unknown", 1, 0, 1, N)
    ]
    assert run(loaded, "categories_trending") == []  # nothing reaches the default of 3


def test_reopened_tickets(loaded: Engine) -> None:
    assert run(loaded, "reopened_tickets") == [
        ("tkt_03", "2024-03-06T08:00:00Z", "2024-03-06T10:00:00Z", 1, "solved", "auth", "P3", N)
    ]
    assert run(loaded, "reopened_tickets", since="2024-03-07") == []


def test_breaches_by_agent(loaded: Engine) -> None:
    assert run(loaded, "breaches_by_agent") == [
        ("bob", 2, 2, 1, 0, 1, 0.0),
        ("(unassigned)", 2, 1, 1, 0, 0, 0.5),
        ("alice", 1, 0, 0, 0, 0, 1.0),
    ]
    assert run(loaded, "breaches_by_agent", since="2024-03-11", until="2024-03-13") == [
        ("bob", 1, 1, 1, 0, 0, 0.0),
        ("(unassigned)", 1, 0, 0, 0, 0, 1.0),
    ]


# -- refusing what is not a read -----------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM tickets",
        "UPDATE tickets SET status = 'solved'",
        "WITH gone AS (DELETE FROM tickets RETURNING id) SELECT * FROM gone",
        "SELECT 1; DELETE FROM tickets",
        "SELECT * INTO copy FROM tickets",
        "SELECT id FROM tickets FOR UPDATE",
        "PRAGMA query_only = OFF",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "-- only a comment",
    ],
)
def test_statements_that_are_not_a_single_read_are_refused(sql: str) -> None:
    with pytest.raises(TemplateError):
        check_read_only(sql)


def test_keywords_inside_strings_and_comments_are_fine() -> None:
    check_read_only("SELECT 'drop table' AS x -- delete me\n FROM tickets /* update */;")


def test_a_template_that_writes_is_refused_when_read(tmp_path: Path) -> None:
    path = tmp_path / "purge.sql"
    path.write_text("-- description: oops\nDELETE FROM tickets\n")
    with pytest.raises(TemplateError, match=r"purge\.sql: a template must start with SELECT"):
        parse(path)
    path.write_text("-- description: x\n-- param: a int\nSELECT :b\n")
    with pytest.raises(TemplateError, match="undeclared parameters b"):
        parse(path)


def test_unknown_missing_and_malformed_parameters_are_refused() -> None:
    template = find("breaches_by_agent")
    with pytest.raises(TemplateError, match="unknown parameter agent"):
        bind(template, {"agent": "bob"})
    with pytest.raises(TemplateError, match="not a valid date"):
        bind(template, {"since": "yesterday"})
    with pytest.raises(TemplateError, match="needs --param ticket_id"):
        bind(find("ticket_history"), {})
    with pytest.raises(TemplateError, match="unknown query"):
        find("drop_everything")


def _tickets(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Ticket)).scalar_one())


def test_the_database_itself_refuses_writes(loaded: Engine) -> None:
    """Past the statement check, the read-only transaction or pragma still stops a write,
    and the pooled connection is writable again afterwards."""
    with pytest.raises(ReadOnlyViolation):
        run_read_only(loaded, text("DELETE FROM tickets"), {})
    assert _tickets(loaded) == 6
    with loaded.begin() as conn:
        conn.execute(text("DELETE FROM ticket_corrections"))
    assert run_read_only(loaded, text("SELECT COUNT(*) FROM ticket_corrections"), {}).rows == [[0]]
