"""The conversation over HTTP: follow-ups re-drafted with the history, handwritten
replies sent once, notes kept internal, merges that lose nothing, workflow actions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy import func, select

from app.store import api_tokens as tokens
from app.store.conversations import TicketCorrection
from app.store.models import OutboxMessage
from app.triage.draft.protocol import Turn
from app.triage.results import AskResult
from tests.api.conftest import Api, MakeApi, wait_for

WEBHOOK_QUESTION = "How do I verify the signature of the webhooks you send us?"
OTHER_QUESTION = "How do I test payouts in the sandbox environment before going live?"
SECRET = "sk_live_51HxQz8Lm2Pq9Rt4Vw6Yb3Nc7Df"


def create(api: Api, message: str = WEBHOOK_QUESTION) -> dict[str, Any]:
    response = api.client.post(
        "/v1/tickets",
        json={"message": message, "reporter": "dev@example.com"},
        headers=api.auth("integration"),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def post(
    api: Api, ticket_id: str, *, role: str = "agent", key: str | None = None, **body: Any
) -> httpx.Response:
    headers = api.auth(role) | ({"Idempotency-Key": key} if key else {})
    return api.client.post(f"/v1/tickets/{ticket_id}/messages", json=body, headers=headers)


def action(
    api: Api, ticket_id: str, name: str, /, role: str = "agent", **body: Any
) -> httpx.Response:
    return api.client.post(f"/v1/tickets/{ticket_id}/{name}", json=body, headers=api.auth(role))


def get(api: Api, ticket_id: str, role: str = "agent") -> dict[str, Any]:
    response = api.client.get(f"/v1/tickets/{ticket_id}", headers=api.auth(role))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def audit_actions(api: Api, ticket_id: str) -> list[str]:
    response = api.client.get(f"/v1/tickets/{ticket_id}/audit", headers=api.auth())
    return [entry["action"] for entry in response.json()]


def test_a_follow_up_attaches_and_is_drafted_with_the_conversation(api: Api) -> None:
    ticket = create(api)
    assert ticket["triage"]["category"] == "webhooks"
    first_draft = ticket["draft"]["id"]

    response = post(
        api, ticket["id"], role="integration", text="and in Python?", author="customer",
        external_id="slack:C1:1712.0002",
    )  # fmt: skip
    assert response.status_code == 201, response.text
    assert [m["text"] for m in response.json()["messages"]] == [WEBHOOK_QUESTION, "and in Python?"]

    detail = get(api, ticket["id"])
    assert detail["status"] == "pending_review"
    assert detail["category"] == "webhooks"  # the follow-up did not reclassify the ticket
    assert [(d["version"], d["status"]) for d in detail["drafts"]] == [
        (1, "superseded"),
        (2, "pending"),
    ]
    redraft = detail["draft"]
    # Read with its question, "and in Python?" is documented: no hand-off as undocumented.
    assert redraft["reason"] != "insufficient_documentation"
    assert not redraft["needs_human"]
    assert any(c["doc_id"].endswith("webhooks") for c in redraft["citations"])
    assert "follow_up_received" in audit_actions(api, ticket["id"])

    # Slack (or the integration) delivers the same message again: stored once.
    again = post(
        api, ticket["id"], role="integration", text="and in Python?", author="customer",
        external_id="slack:C1:1712.0002",
    )  # fmt: skip
    assert again.status_code == 200
    detail = get(api, ticket["id"])
    assert len(detail["messages"]) == 2
    assert len(detail["drafts"]) == 2
    assert first_draft == detail["drafts"][0]["id"]


def test_an_integration_posts_only_customer_messages_to_its_own_tickets(api: Api) -> None:
    ticket = create(api)
    with api.sessions.begin() as session:
        other, _ = tokens.create_token(session, "integration", "other-integration")
    response = api.client.post(
        f"/v1/tickets/{ticket['id']}/messages",
        json={"text": "hello?", "author": "customer"},
        headers={"Authorization": f"Bearer {other}"},
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    refused = post(api, ticket["id"], role="integration", text="a reply", author="agent", key="k1")
    assert refused.status_code == 403
    blank = post(api, ticket["id"], role="integration", text="   ", author="customer")
    assert blank.status_code == 422


def test_reject_then_a_handwritten_reply_is_stored_and_sent_once(api: Api) -> None:
    ticket = create(api, OTHER_QUESTION)
    draft_id = ticket["draft"]["id"]
    rejected = api.client.post(
        f"/v1/drafts/{draft_id}/reject",
        json={"reason_code": "inaccurate"},
        headers=api.auth() | {"Idempotency-Key": "reject-1"},
    )
    assert rejected.status_code == 200

    unkeyed = post(api, ticket["id"], text="Use the sandbox host.", author="agent")
    assert unkeyed.status_code == 422  # a reply without an Idempotency-Key is refused

    text = "Use https://sandbox.example.com and the sandbox keys from the dashboard."
    first = post(api, ticket["id"], key="reply-1", text=text, author="agent")
    retry = post(api, ticket["id"], key="reply-1", text=text, author="agent")
    assert first.status_code == retry.status_code == 201
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.content == first.content

    wait_for(lambda: get(api, ticket["id"])["status"] == "sent")
    detail = get(api, ticket["id"])
    agent_messages = [m for m in detail["messages"] if m["author"] == "agent"]
    assert [m["text"] for m in agent_messages] == [text]
    with api.sessions() as session:
        sends = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.ticket_id == ticket["id"])
        )
    assert sends == 1
    assert audit_actions(api, ticket["id"]).count("reply_written") == 1


class SpyPipeline:
    """The real pipeline, recording what each run was given."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[str, list[Turn]]] = []

    def run(self, message: str, *, history: Sequence[Turn] = ()) -> AskResult:
        self.calls.append((message, list(history)))
        result: AskResult = self.inner.run(message, history=history)
        return result


def test_a_note_is_never_shown_to_the_customer_or_given_to_a_draft(
    make_api: MakeApi, pipeline: Any
) -> None:
    spy = SpyPipeline(pipeline)
    api = make_api(use_pipeline=spy)
    ticket = create(api)
    note = post(
        api, ticket["id"], text=f"Legacy plan NOTE-7731, their key {SECRET}", author="agent",
        internal=True,
    )  # fmt: skip
    assert note.status_code == 201, note.text
    stored = [m for m in note.json()["messages"] if m["internal"]]
    assert len(stored) == 1
    assert SECRET not in stored[0]["text"]
    assert "NOTE-7731" in stored[0]["text"]

    assert post(api, ticket["id"], role="integration", text="and in Python?", author="customer")
    message, history = spy.calls[-1]
    assert message == "and in Python?"
    assert [t.content for t in history] == [WEBHOOK_QUESTION]
    assert all("NOTE-7731" not in t.content for t in history)

    seen_by_customer = get(api, ticket["id"], role="integration")
    assert all("NOTE-7731" not in m["text"] for m in seen_by_customer["messages"])
    assert {m["author"] for m in seen_by_customer["messages"]} == {"customer"}


def test_a_follow_up_reopens_a_solved_ticket(api: Api) -> None:
    ticket = create(api)
    approved = api.client.post(
        f"/v1/drafts/{ticket['draft']['id']}/approve",
        json={},
        headers=api.auth() | {"Idempotency-Key": "approve-1"},
    )
    assert approved.status_code == 200
    wait_for(lambda: get(api, ticket["id"])["status"] == "sent")
    solved = action(api, ticket["id"], "solve")
    assert solved.status_code == 200
    assert solved.json()["status"] == "solved"
    assert action(api, ticket["id"], "solve").status_code == 409

    assert post(api, ticket["id"], role="integration", text="still 401", author="customer")
    detail = get(api, ticket["id"])
    assert detail["status"] == "pending_review"
    kinds = [(m["author"], m["event"]) for m in detail["messages"]]
    assert kinds == [
        ("customer", None),
        ("agent", None),  # the approved draft, as sent
        ("system", "solved"),
        ("system", "reopened"),
        ("customer", None),
    ]
    assert "ticket_solved" in audit_actions(api, ticket["id"])


def test_merging_a_duplicate_keeps_every_message_and_the_audit(api: Api) -> None:
    target, dup = create(api), create(api)
    assert post(api, dup["id"], role="integration", text="any update?", author="customer")
    dup_audit = audit_actions(api, dup["id"])

    merged = action(api, dup["id"], "merge", into=target["id"])
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["id"] == target["id"]
    assert body["merged_from"] == [dup["id"]]
    texts = [m["text"] for m in body["messages"] if m["author"] == "customer"]
    assert texts == [WEBHOOK_QUESTION, WEBHOOK_QUESTION, "any update?"]

    dup_now = get(api, dup["id"])
    assert dup_now["merged_into"] == target["id"]
    assert dup_now["status"] == "solved"
    assert all(d["status"] != "pending" for d in dup_now["drafts"])
    assert audit_actions(api, dup["id"])[: len(dup_audit)] == dup_audit
    assert audit_actions(api, dup["id"])[-1] == "ticket_merged"
    assert "ticket_merge_received" in audit_actions(api, target["id"])

    # A follow-up to the duplicate reaches the ticket that carries the conversation.
    assert post(api, dup["id"], role="integration", text="and in Go?", author="customer")
    assert get(api, target["id"])["messages"][-1]["text"] == "and in Go?"

    assert action(api, target["id"], "merge", into=dup["id"]).status_code == 400
    assert action(api, dup["id"], "merge", into=target["id"]).status_code == 409
    linked = action(api, target["id"], "link", ticket_id=create(api)["id"])
    assert linked.status_code == 200
    assert linked.json()["links"][0]["kind"] == "incident"


def test_assignment_corrections_and_stale_versions(api: Api) -> None:
    ticket = create(api)
    with api.sessions.begin() as session:
        second, _ = tokens.create_token(session, "agent", "agent-2")
    taken = action(api, ticket["id"], "assign", take=True)
    assert taken.status_code == 200
    assert taken.json()["assignee"] == "agent-1"
    lost = api.client.post(
        f"/v1/tickets/{ticket['id']}/assign",
        json={"take": True},
        headers={"Authorization": f"Bearer {second}"},
    )
    assert lost.status_code == 409
    assert lost.json()["current"]["assignee"] == "agent-1"

    version = taken.json()["version"]
    moved = action(api, ticket["id"], "recategorize", category="security", priority="P1")
    assert moved.status_code == 200
    detail = moved.json()
    assert (detail["category"], detail["priority"]) == ("security", "P1")
    assert detail["triage"]["category"] == "webhooks"  # predicted stays: corrected is computable
    with api.sessions() as session:
        corrections = {
            c.field: (c.predicted, c.final) for c in session.scalars(select(TicketCorrection))
        }
    assert corrections == {"category": ("webhooks", "security"), "priority": ("P3", "P1")}

    stale = action(api, ticket["id"], "assign", assignee=None, expected_version=version)
    assert stale.status_code == 409
    assert stale.json()["current"]["version"] == version + 1
    unknown = action(api, ticket["id"], "recategorize", category="no_such_category")
    assert unknown.status_code == 400
    nobody = action(api, ticket["id"], "assign", assignee="nobody-by-that-name")
    assert nobody.status_code == 400

    waiting = action(api, ticket["id"], "awaiting-customer")
    assert waiting.status_code == 200
    assert waiting.json()["sla"]["paused"] is True
    reopened = action(api, ticket["id"], "reopen")
    assert reopened.json()["status"] == "pending_review"
    assert not reopened.json()["sla"]["paused"]
    assert action(api, "tkt_missing", "solve").status_code == 404


def test_after_a_reject_an_agent_asks_for_a_new_draft(api: Api) -> None:
    ticket = create(api, OTHER_QUESTION)
    rejected = api.client.post(
        f"/v1/drafts/{ticket['draft']['id']}/reject",
        json={"reason_code": "incomplete"},
        headers=api.auth() | {"Idempotency-Key": "reject-2"},
    )
    assert rejected.status_code == 200
    redrafted = action(api, ticket["id"], "redraft")
    assert redrafted.status_code == 200, redrafted.text
    body = redrafted.json()
    assert body["status"] == "pending_review"
    assert [(d["version"], d["status"]) for d in body["drafts"]] == [
        (1, "rejected"),
        (2, "pending"),
    ]
    assert "redraft_requested" in audit_actions(api, ticket["id"])


def test_a_follow_up_is_stored_without_the_secret_it_carries(api: Api) -> None:
    ticket = create(api)
    response = post(
        api, ticket["id"], role="integration", text=f"still failing with key {SECRET}",
        author="customer",
    )  # fmt: skip
    assert response.status_code == 201, response.text
    assert SECRET not in response.text
    assert SECRET not in json.dumps(get(api, ticket["id"]))
    assert "[REDACTED" in response.json()["messages"][-1]["text"]
