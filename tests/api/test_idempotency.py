"""Stripe-style Idempotency-Key semantics on the mutating routes."""

from __future__ import annotations

from sqlalchemy import func, select

from app.store import api_tokens as token_store
from app.store import idempotency
from app.store.models import OutboxMessage, Ticket
from tests.api.conftest import Api, seed_ticket

JSON = {"Content-Type": "application/json"}


def test_same_key_and_body_replays_the_first_response_byte_for_byte(api: Api) -> None:
    _, draft_id = seed_ticket(api.sessions)
    headers = {**api.auth(), "Idempotency-Key": "k-1", **JSON}
    body = b'{"text": "Edited reply."}'
    first = api.client.post(f"/v1/drafts/{draft_id}/approve", content=body, headers=headers)
    assert first.status_code == 200
    assert "idempotent-replayed" not in first.headers
    again = api.client.post(f"/v1/drafts/{draft_id}/approve", content=body, headers=headers)
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    with api.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_stored_error_is_replayed_too(api: Api) -> None:
    _, draft_id = seed_ticket(api.sessions)
    won = api.client.post(
        f"/v1/drafts/{draft_id}/approve", json={}, headers={**api.auth(), "Idempotency-Key": "a"}
    )
    assert won.status_code == 200
    headers = {**api.auth("admin"), "Idempotency-Key": "b"}
    lost = api.client.post(f"/v1/drafts/{draft_id}/approve", json={}, headers=headers)
    assert lost.status_code == 409
    retried = api.client.post(f"/v1/drafts/{draft_id}/approve", json={}, headers=headers)
    assert (retried.status_code, retried.content) == (409, lost.content)
    assert retried.headers["content-type"] == "application/problem+json"


def test_same_key_with_another_body_or_draft_is_422(api: Api) -> None:
    _, draft_a = seed_ticket(api.sessions)
    _, draft_b = seed_ticket(api.sessions)
    headers = {**api.auth(), "Idempotency-Key": "reused"}
    assert api.client.post(f"/v1/drafts/{draft_a}/approve", json={}, headers=headers).is_success
    other_body = api.client.post(
        f"/v1/drafts/{draft_a}/approve", json={"text": "different"}, headers=headers
    )
    assert other_body.status_code == 422
    assert other_body.json()["type"] == "urn:triage:problem:idempotency-key-reused"
    other_draft = api.client.post(f"/v1/drafts/{draft_b}/approve", json={}, headers=headers)
    assert other_draft.status_code == 422


def test_keys_are_scoped_per_token(api: Api) -> None:
    _, draft_a = seed_ticket(api.sessions)
    _, draft_b = seed_ticket(api.sessions)
    shared = "same-key"
    a = api.client.post(
        f"/v1/drafts/{draft_a}/approve", json={}, headers={**api.auth(), "Idempotency-Key": shared}
    )
    b = api.client.post(
        f"/v1/drafts/{draft_b}/approve", json={},
        headers={**api.auth("admin"), "Idempotency-Key": shared},
    )  # fmt: skip
    assert (a.status_code, b.status_code) == (200, 200)


def test_same_key_while_the_first_request_runs_is_409(api: Api) -> None:
    _, draft_id = seed_ticket(api.sessions)
    path = f"/v1/drafts/{draft_id}/approve"
    body = b"{}"
    with api.sessions.begin() as session:
        principal = token_store.authenticate(session, api.agent)
        assert principal is not None
        scope = f"POST /v1/drafts/{{draft_id}}/approve|{principal.token_id}"
        started = idempotency.begin(
            session, scope, "busy", idempotency.fingerprint("POST", path, body)
        )
        assert isinstance(started, idempotency.Started)
    response = api.client.post(
        path, content=body, headers={**api.auth(), "Idempotency-Key": "busy", **JSON}
    )
    assert response.status_code == 409
    assert response.json()["type"] == "urn:triage:problem:idempotency-key-in-flight"
    assert response.headers["retry-after"] == "1"


def test_ticket_creation_with_a_key_creates_one_ticket(api: Api) -> None:
    headers = {**api.auth("integration"), "Idempotency-Key": "create-1", **JSON}
    body = b'{"message": "How do I rotate my sandbox client secret?"}'
    first = api.client.post("/v1/tickets", content=body, headers=headers)
    again = api.client.post("/v1/tickets", content=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    with api.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
