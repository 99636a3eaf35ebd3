"""Every error is application/problem+json: auth, routing, validation, limits, crashes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.api.deps import get_conversation_service
from tests.api.conftest import Api, MakeApi, seed_ticket

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def assert_problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert str(body["type"]).startswith("urn:triage:problem:")
    return body


def test_missing_and_bad_tokens_are_401_with_a_bearer_challenge(api: Api) -> None:
    missing = api.client.get("/v1/review/queue")
    assert_problem(missing, 401)
    assert missing.headers["www-authenticate"].startswith("Bearer")
    for header in ("Bearer trg_not-a-real-token", "Bearer nonsense", "Basic dXNlcjpwYXNz"):
        bad = api.client.get("/v1/review/queue", headers={"Authorization": header})
        assert_problem(bad, 401)
        assert bad.headers["www-authenticate"].startswith("Bearer")


ROUTES = [
    # method, path template, body, roles allowed
    ("GET", "/v1/review/queue", None, {"agent", "admin"}),
    ("GET", "/v1/tickets/{ticket}", None, {"agent", "admin"}),
    ("GET", "/v1/tickets/{ticket}/audit", None, {"agent", "admin"}),
    ("GET", "/v1/search?q=auth", None, {"agent", "admin"}),
    ("POST", "/v1/tickets/{ticket}/escalate", {"reason": "x"}, {"agent", "admin"}),
    ("POST", "/v1/drafts/{draft}/reject", {"reason_code": "policy"}, {"agent", "admin"}),
    ("POST", "/v1/drafts/{draft}/approve", {}, {"agent", "admin"}),
    ("GET", "/v1/tokens", None, {"admin"}),
    ("POST", "/v1/tokens", {"role": "agent", "name": "bob"}, {"admin"}),
]


@pytest.mark.parametrize(("method", "template", "body", "allowed"), ROUTES)
def test_role_matrix(
    api: Api, method: str, template: str, body: dict[str, str] | None, allowed: set[str]
) -> None:
    for role in ("integration", "agent", "admin"):
        ticket_id, draft_id = seed_ticket(api.sessions)
        path = template.format(ticket=ticket_id, draft=draft_id)
        headers = {**api.auth(role), "Idempotency-Key": f"{role}-{path}"}
        response = api.client.request(method, path, json=body, headers=headers)
        if role in allowed:
            assert response.status_code < 400, (role, path, response.text)
        elif template == "/v1/tickets/{ticket}":
            # An integration reads only its own tickets; others do not exist for it.
            assert_problem(response, 404)
        else:
            problem = assert_problem(response, 403)
            assert role in str(problem["detail"])


def test_integration_may_create_but_not_review(api: Api) -> None:
    created = api.client.post(
        "/v1/tickets", json={"message": "How do I get a sandbox key?"},
        headers=api.auth("integration"),
    )  # fmt: skip
    assert created.status_code == 201
    assert_problem(api.client.get("/v1/review/queue", headers=api.auth("integration")), 403)


def test_unknown_route_and_wrong_method(api: Api) -> None:
    body = assert_problem(api.client.get("/v2/nothing"), 404)
    assert body["instance"] == "/v2/nothing"
    wrong = api.client.delete("/v1/review/queue", headers=api.auth())
    assert_problem(wrong, 405)
    assert "GET" in wrong.headers["allow"]
    # GET and POST /v1/tokens are two routes; the 405 names both.
    tokens = api.client.put("/v1/tokens", headers=api.auth("admin"))
    assert_problem(tokens, 405)
    assert {m.strip() for m in tokens.headers["allow"].split(",")} >= {"GET", "POST"}


def test_validation_errors_name_the_field_and_never_echo_input(api: Api) -> None:
    response = api.client.post(
        "/v1/tickets",
        json={"message": "", "channel": "fax", "reporter": "x" * 400, "secret": "hunter2"},
        headers=api.auth("integration"),
    )
    body = assert_problem(response, 422)
    errors = body["errors"]
    assert isinstance(errors, list)
    locs = {tuple(e["loc"]) for e in errors}
    assert {
        ("body", "message"),
        ("body", "channel"),
        ("body", "reporter"),
        ("body", "secret"),
    } <= locs
    assert all(e["message"] and e["type"] for e in errors)
    assert {e["pointer"] for e in errors} >= {"#/message", "#/channel"}
    assert "hunter2" not in response.text
    assert "fax" not in response.text


def test_message_length_limit_comes_from_settings(make_api: MakeApi) -> None:
    api = make_api(max_message_chars=100)
    response = api.client.post(
        "/v1/tickets", json={"message": "a" * 101}, headers=api.auth("integration")
    )
    body = assert_problem(response, 422)
    assert body["errors"] == [
        {
            "loc": ["body", "message"],
            "type": "string_too_long",
            "message": "String should have at most 100 characters",
            "pointer": "#/message",
        }
    ]
    schema = api.client.get("/openapi.json").json()
    props = schema["components"]["schemas"]["TicketCreate"]["properties"]
    assert props["message"]["maxLength"] == 100
    ask = api.client.post("/v1/ask", json={"question": "b" * 101})
    assert_problem(ask, 422)


def test_malformed_json_says_where(api: Api) -> None:
    response = api.client.post(
        "/v1/tickets",
        content=b'{"message": "hi",\n "channel": }',
        headers={**api.auth("integration"), "Content-Type": "application/json"},
    )
    body = assert_problem(response, 400)
    assert body["type"] == "urn:triage:problem:malformed-json"
    assert "line 2" in str(body["detail"])


def test_body_too_large_by_content_length_and_by_stream(make_api: MakeApi) -> None:
    api = make_api(max_request_bytes=4096)
    headers = {**api.auth("integration"), "Content-Type": "application/json"}
    declared = api.client.post("/v1/tickets", content=b"x" * 5000, headers=headers)
    assert_problem(declared, 413)

    def chunks() -> Iterator[bytes]:
        yield b'{"message": "'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}'

    streamed = api.client.post("/v1/tickets", content=chunks(), headers=headers)
    assert "content-length" not in streamed.request.headers
    assert_problem(streamed, 413)
    small = api.client.post("/v1/tickets", json={"message": "short question"}, headers=headers)
    assert small.status_code == 201


def test_idempotency_key_is_required_for_decisions(api: Api) -> None:
    _, draft_id = seed_ticket(api.sessions)
    for action, body in (("approve", {}), ("reject", {"reason_code": "policy"})):
        response = api.client.post(f"/v1/drafts/{draft_id}/{action}", json=body, headers=api.auth())
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["loc"] == ["header", "Idempotency-Key"]  # type: ignore[index]
    too_long = api.client.post(
        f"/v1/drafts/{draft_id}/approve", json={},
        headers={**api.auth(), "Idempotency-Key": "k" * 300},
    )  # fmt: skip
    assert_problem(too_long, 422)


def test_unexpected_errors_are_500_problems_without_internals(api: Api) -> None:
    class Exploding:
        def view(self, ticket_id: str, *, owner: str | None = None) -> None:
            raise RuntimeError("database password is hunter2")

    api.app.dependency_overrides[get_conversation_service] = Exploding
    try:
        response = api.client.get(
            "/v1/tickets/tkt_x", headers={**api.auth(), "X-Request-ID": "req-123"}
        )
    finally:
        api.app.dependency_overrides.clear()
    body = assert_problem(response, 500)
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    assert response.headers["x-request-id"] == "req-123"
    assert "req-123" in str(body["detail"])
