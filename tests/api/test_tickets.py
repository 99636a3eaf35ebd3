"""Tickets and review through the API, with the real offline pipeline on Grid pages."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import text

from app.api.queue_schemas import QueuePage
from app.api.schemas import Citation, TicketPublic
from app.observability import JsonFormatter
from app.services.review_queue import queue_page_json
from app.store import reviews
from app.store import tickets as ticket_store
from app.store.columns import UTCDateTime, json_type
from tests.api.conftest import AUTH_QUESTION, Api, MakeApi, seed_ticket, wait_for

FAKE_SECRET = "gs_live_9fK2mQ7xT4vB8nR1cW6yZ3pL5hJ0dS"
DRAFT_KEYS = {"id", "version", "text", "citations", "confidence", "needs_human", "reason"}


def test_integration_creates_a_drafted_ticket_that_agents_see_in_the_queue(api: Api) -> None:
    created = api.client.post(
        "/v1/tickets",
        json={"message": AUTH_QUESTION, "reporter": "dev@example.com", "metadata": {"k": 1}},
        headers=api.auth("integration"),
    )
    assert created.status_code == 201, created.text
    ticket = created.json()
    assert ticket["status"] == "pending_review"
    assert ticket["channel"] == "api"
    assert ticket["message"] == AUTH_QUESTION
    assert ticket["metadata"] == {"k": 1}
    triage = ticket["triage"]
    assert {"category", "confidence", "priority", "team", "language", "sentiment", "flags"} <= set(
        triage
    )
    assert triage["category"] == "auth_api_access"
    assert ticket["redactions"] == []
    assert "http_statuses" in ticket["signals"]
    draft = ticket["draft"]
    assert set(draft) >= DRAFT_KEYS
    assert draft["version"] == 1
    assert draft["citations"], "a how-to question about auth is answered from the docs"
    assert any(c["doc_id"].endswith("api-reference/authentication") for c in draft["citations"])
    assert not draft["needs_human"], draft["reason"]

    queue = api.client.get("/v1/review/queue", headers=api.auth("agent")).json()
    assert [item["id"] for item in queue["items"]] == [ticket["id"]]
    assert queue["items"][0]["draft"]["id"] == draft["id"]
    assert queue["next_cursor"] is None
    # The row as the contract has it: nobody has it yet, its first-response clock runs.
    row = QueuePage.model_validate(queue).items[0]
    assert row.assignee is None
    assert row.sla.first_response_due is not None
    assert row.sla.next_response_due is None
    assert not row.sla.breached

    detail = api.client.get(f"/v1/tickets/{ticket['id']}", headers=api.auth()).json()
    assert [d["id"] for d in detail["drafts"]] == [draft["id"]]
    assert detail["review"] == []


def test_a_pasted_secret_is_never_returned_stored_or_logged(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    message = (
        f'Our production calls fail with 401. We use client_secret = "{FAKE_SECRET}" '
        "with basic auth against api.lightspark.com/grid. What is wrong?"
    )
    with caplog.at_level(logging.DEBUG):
        created = api.client.post(
            "/v1/tickets", json={"message": message}, headers=api.auth("integration")
        )
    assert created.status_code == 201, created.text
    assert FAKE_SECRET not in created.text
    ticket = created.json()
    assert ticket["redactions"]
    assert all(set(r) == {"kind", "placeholder"} for r in ticket["redactions"])
    assert ticket["redactions"][0]["placeholder"] in ticket["message"]
    # Still for an agent to see, with the reason why a person must answer.
    assert ticket["status"] == "pending_review"
    assert ticket["draft"]["needs_human"] is True
    assert ticket["draft"]["reason"] == "security_exposure"
    assert "secret" in ticket["triage"]["flags"]

    with api.sessions() as session:
        for table in ("tickets", "drafts", "audit_log", "outbox", "idempotency_keys"):
            for row in session.execute(text(f"SELECT * FROM {table}")):
                assert FAKE_SECRET not in repr(tuple(row)), table
    formatter = JsonFormatter()
    for record in caplog.records:
        assert FAKE_SECRET not in formatter.format(record)
        assert "Our production calls fail" not in formatter.format(record)
    for path in (f"/v1/tickets/{ticket['id']}", f"/v1/tickets/{ticket['id']}/audit"):
        assert FAKE_SECRET not in api.client.get(path, headers=api.auth()).text


def test_edited_approval_is_sent_once_with_a_full_audit_trail(api: Api) -> None:
    ticket_id, draft_id = seed_ticket(api.sessions)
    edited = "Hi! Create a new secret under Settings > API keys and update your client."
    approved = api.client.post(
        f"/v1/drafts/{draft_id}/approve",
        json={"text": edited, "expected_version": 1},
        headers={**api.auth("agent"), "Idempotency-Key": "approve-1"},
    )
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["final_text"] == edited
    # The reviewer comes from the token: its id, then its (unique) name.
    assert re.fullmatch(r"tok_\w+:agent-1", body["approved_by"]), body["approved_by"]
    assert body["status"] == "approved"

    def sent() -> bool:
        got = api.client.get(f"/v1/tickets/{ticket_id}", headers=api.auth()).json()
        return bool(got["status"] == "sent")

    wait_for(sent)
    detail = api.client.get(f"/v1/tickets/{ticket_id}", headers=api.auth()).json()
    assert detail["draft"]["status"] == "sent"
    assert detail["draft"]["final_text"] == edited
    assert [e["action"] for e in detail["review"]] == ["edit"]
    assert detail["review"][0]["reviewer"] == body["approved_by"]

    audit = api.client.get(f"/v1/tickets/{ticket_id}/audit", headers=api.auth()).json()
    assert [a["action"] for a in audit] == [
        "ticket_created",
        "draft_added",
        "draft_approved",
        "reply_sent",
    ]
    assert audit[2]["actor"] == body["approved_by"]
    assert (audit[2]["from_status"], audit[2]["to_status"]) == ("pending_review", "approved")
    assert all(entry["created_at"] for entry in audit)

    metrics = api.client.get("/metrics").text
    assert 'triage_drafts_decided_total{outcome="edited"} 1.0' in metrics
    assert 'triage_outbox_messages_total{outcome="sent"} 1.0' in metrics


def test_reject_with_the_contract_shape_and_escalate_to_a_team(api: Api) -> None:
    ticket_id, draft_id = seed_ticket(api.sessions)
    rejected = api.client.post(
        f"/v1/drafts/{draft_id}/reject",
        json={"reason": "Does not mention the sandbox host."},
        headers={**api.auth(), "Idempotency-Key": "reject-1"},
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    coded = api.client.post(
        f"/v1/drafts/{draft_id}/reject",
        json={"reason_code": "inaccurate"},
        headers={**api.auth(), "Idempotency-Key": "reject-2"},
    )
    assert coded.status_code == 409
    escalated = api.client.post(
        f"/v1/tickets/{ticket_id}/escalate",
        json={"reason": "Needs a payments engineer.", "team": "payments"},
        headers=api.auth("admin"),
    )
    assert escalated.status_code == 200, escalated.text
    assert escalated.json()["status"] == "escalated"
    assert escalated.json()["team"] == "payments"
    detail = api.client.get(f"/v1/tickets/{ticket_id}", headers=api.auth()).json()
    assert [e["action"] for e in detail["review"]] == ["reject", "escalate"]
    assert detail["review"][0]["reason_code"] == "other"
    assert detail["review"][1]["reviewer"].endswith(":admin-1")
    queue = api.client.get(
        "/v1/review/queue", params={"status": "escalated", "team": "payments"}, headers=api.auth()
    ).json()
    assert [t["id"] for t in queue["items"]] == [ticket_id]


def test_stale_expected_version_is_a_conflict(api: Api) -> None:
    _, draft_id = seed_ticket(api.sessions)
    stale = api.client.post(
        f"/v1/drafts/{draft_id}/approve",
        json={"expected_version": 2},
        headers={**api.auth(), "Idempotency-Key": "stale"},
    )
    assert stale.status_code == 409
    assert stale.headers["content-type"] == "application/problem+json"
    assert "version" in stale.json()["detail"]


def test_queue_orders_by_priority_then_age_filters_and_pages(make_api: MakeApi) -> None:
    api = make_api()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    seeded = {
        "p3_old": seed_ticket(api.sessions, priority="P3", created_at=start),
        "p1_new": seed_ticket(
            api.sessions, priority="P1", category="security", created_at=start + timedelta(hours=2)
        ),
        "p2": seed_ticket(api.sessions, priority="P2", team="payments", created_at=start),
        "p1_old": seed_ticket(
            api.sessions, priority="P1", category="security", created_at=start + timedelta(hours=1)
        ),
        "p3_new": seed_ticket(api.sessions, priority="P3", created_at=start + timedelta(hours=3)),
    }
    expected = [seeded[k][0] for k in ("p1_old", "p1_new", "p2", "p3_old", "p3_new")]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.client.get("/v1/review/queue", params=params, headers=api.auth()).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected

    def ids(**params: str) -> list[str]:
        page = api.client.get("/v1/review/queue", params=params, headers=api.auth()).json()
        return [item["id"] for item in page["items"]]

    assert ids(category="security") == expected[:2]
    assert ids(priority="P3") == expected[3:]
    assert ids(team="payments") == [seeded["p2"][0]]
    assert ids(status="approved") == []
    bad = api.client.get("/v1/review/queue", params={"cursor": "nope"}, headers=api.auth())
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["query", "cursor"]


def test_a_new_ticket_starts_its_clocks_so_the_queue_sorts_it_by_due_time(api: Api) -> None:
    created = api.client.post(
        "/v1/tickets", json={"message": AUTH_QUESTION}, headers=api.auth("integration")
    ).json()
    # An older ticket written straight to the store has no stored clocks yet: last.
    older, _ = seed_ticket(api.sessions, priority="P1", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    page = api.client.get("/v1/review/queue", params={"sort": "due"}, headers=api.auth())
    assert page.status_code == 200, page.text
    rows = QueuePage.model_validate(page.json()).items
    assert [row.id for row in rows] == [created["id"], older]
    assert rows[0].sla.next_due == rows[0].sla.first_response_due is not None

    schema = api.client.get("/openapi.json").json()
    (sort,) = [
        p for p in schema["paths"]["/v1/review/queue"]["get"]["parameters"] if p["name"] == "sort"
    ]
    assert sort["schema"]["enum"] == ["priority", "due"]
    item = schema["components"]["schemas"]["QueueItem"]["properties"]
    assert {"assignee", "sla"} <= set(item)

    first = api.client.get("/v1/review/queue", params={"limit": 1}, headers=api.auth()).json()
    mixed = api.client.get(
        "/v1/review/queue",
        params={"sort": "due", "cursor": first["next_cursor"]},
        headers=api.auth(),
    )
    assert mixed.status_code == 422, "a cursor of the priority order is refused by sort=due"


def test_search_returns_hits_shaped_like_the_cli(api: Api) -> None:
    response = api.client.get(
        "/v1/search", params={"q": "how do I authenticate with client id and secret", "k": 3},
        headers=api.auth(),
    )  # fmt: skip
    assert response.status_code == 200, response.text
    hits = response.json()
    assert 1 <= len(hits) <= 3
    assert {"chunk_id", "doc_id", "source", "title", "url", "heading", "score", "text"} <= set(
        hits[0]
    )
    assert "docs/guides/api-reference/authentication" in {h["doc_id"] for h in hits}


def test_unknown_ids_are_404_problems(api: Api) -> None:
    for method, path in (
        ("GET", "/v1/tickets/tkt_missing"),
        ("GET", "/v1/tickets/tkt_missing/audit"),
    ):
        response = api.client.request(method, path, headers=api.auth())
        assert response.status_code == 404
        assert response.json()["type"] == "urn:triage:problem:not-found"
    missing = api.client.post(
        "/v1/drafts/drf_missing/approve", json={}, headers={**api.auth(), "Idempotency-Key": "m"}
    )
    assert missing.status_code == 404
    escalate = api.client.post(
        "/v1/tickets/tkt_missing/escalate", json={"reason": "x"}, headers=api.auth()
    )
    assert escalate.status_code == 404


# The queue page as plain SQL: the tickets in queue order, each with its current draft
# (the pending one, else the latest version).  Typed columns, so JSON and timestamps read
# back alike on both backends.
_QUEUE_SQL = """
SELECT id, status, channel, reporter, message, metadata, triage, signals, redactions,
       category, priority, team, external_ref, created_at, updated_at
FROM tickets {where} ORDER BY priority, created_at, id
"""
_CURRENT_DRAFT_SQL = """
SELECT id, ticket_id, version, status, text, final_text, citations, confidence, needs_human,
       reason, created_at, approved_by, approved_at
FROM drafts WHERE ticket_id = :ticket_id
ORDER BY CASE WHEN status = 'pending' THEN 0 ELSE 1 END, version DESC LIMIT 1
"""
_JSON_COLUMNS = ("metadata", "triage", "signals", "redactions", "citations")
_TIME_COLUMNS = ("created_at", "updated_at", "approved_at")


class _PlainPage(BaseModel):
    """A page without the console's workflow fields (what queue_page_json writes
    without a Workflow: the SQL above has no assignee or clocks)."""

    items: list[TicketPublic]
    next_cursor: str | None


# As the pipeline stores them: every field of the public citation present.
CITATIONS = [
    Citation(chunk_id="c1", doc_id="docs/auth", source="docs/auth.md", url=None, quote="Rotate")
]


def _typed(sql: str, columns: tuple[str, ...]) -> Any:
    types: dict[str, Any] = {c: json_type() for c in _JSON_COLUMNS if c in columns}
    types.update({c: UTCDateTime() for c in _TIME_COLUMNS if c in columns})
    return text(sql).columns(**types)


def _queue_by_sql(session: Any, filters: dict[str, str]) -> list[dict[str, Any]]:
    where = " AND ".join(f"{name} = :{name}" for name in filters)
    tickets_sql = _QUEUE_SQL.format(where=f"WHERE {where}" if where else "")
    ticket_columns = ("metadata", "triage", "signals", "redactions", "created_at", "updated_at")
    items = []
    for row in session.execute(_typed(tickets_sql, ticket_columns), filters).mappings():
        item = dict(row)
        draft_columns = ("citations", "created_at", "approved_at")
        draft = session.execute(
            _typed(_CURRENT_DRAFT_SQL, draft_columns), {"ticket_id": item["id"]}
        ).mappings()
        item["draft"] = next((dict(d) for d in draft), None)
        items.append(item)
    return items


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_queue_pages_match_the_queue_written_in_sql(
    make_api: MakeApi, backend: str, request: pytest.FixtureRequest
) -> None:
    # PostgreSQL renders JSONB as text in its own spacing and key order: still equal JSON.
    overrides = {}
    if backend == "postgresql":
        overrides["database_url"] = request.getfixturevalue("pg_databases").create()
    api = make_api(**overrides)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(7):
        seed_ticket(
            api.sessions,
            priority=f"P{i % 3 + 1}",
            team="payments" if i % 2 else "integrations",
            created_at=start + timedelta(minutes=i % 4),
        )
    # A ticket with a superseded draft and a newer pending one (with citations), a
    # rejected one, and one with redactions (only kind and placeholder are public).
    ticket_id, _ = seed_ticket(api.sessions, priority="P1")
    with api.sessions.begin() as session:
        ticket_store.add_draft(
            session, ticket_id, text="Second version [1].", confidence=0.6, needs_human=True,
            reason="insufficient_documentation",
            citations=[citation.model_dump(mode="json") for citation in CITATIONS],
        )  # fmt: skip
    _, rejected = seed_ticket(api.sessions, priority="P2")
    with api.sessions.begin() as session:
        # Rejected, not approved: the outbox worker would move an approval on meanwhile.
        reviews.reject(session, rejected, reviewer="agent-1", reason_code="inaccurate")
        ticket_store.create_ticket(
            session, channel="api", reporter=None, message="key [REDACTED_API_KEY_1]",
            triage={"priority": "P2"}, signals={}, status="escalated",
            redactions=[{"kind": "api_key", "placeholder": "[REDACTED_API_KEY_1]", "at": 4}],
        )  # fmt: skip

    cases: list[dict[str, Any]] = [{}, {"team": "payments"}, {"priority": "P1"}]
    cases += [{"status": "rejected"}, {"status": "escalated"}]
    for filters in cases:
        with api.sessions() as session:
            by_sql = _queue_by_sql(session, {"status": "pending_review", **filters})
        assert by_sql, f"no tickets for {filters}: the case tests nothing"
        pages: list[dict[str, Any]] = []
        cursor = None
        while True:
            with api.sessions() as session:
                query = ticket_store.QueueQuery(limit=3, cursor=cursor, **filters)
                fast = json.loads(queue_page_json(session.connection(), query))
            pages.append(fast)
            cursor = fast["next_cursor"]
            if cursor is None:
                break
        for index, page in enumerate(pages):
            expected = by_sql[3 * index : 3 * index + 3]
            # Same document (validated and written by the public model, so datetimes
            # are written alike: pydantic's "Z" form); a cursor exactly when more follow.
            document = _PlainPage.model_validate(
                {"items": expected, "next_cursor": page["next_cursor"]}
            )
            assert page == json.loads(document.model_dump_json())
            assert (page["next_cursor"] is not None) == (len(by_sql) > 3 * (index + 1))
