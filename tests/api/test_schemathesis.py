"""Property-based API testing from the OpenAPI document (schemathesis, live server).

Every operation gets a bounded number of generated requests, valid ones (positive) and
invalid ones (negative: wrong types, missing fields, broken auth), sent with an admin
token; none may answer 5xx, and every answer must match what the document declares
(status code, content type, body schema).  The server runs on PostgreSQL, which is the
stricter backend (e.g. it refuses U+0000 in text).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.store import create_engine_for, session_factory
from tests.api.conftest import PG_SERVER_SLACK_SECRET, LiveServer, create_token_in, seed_ticket
from tests.fakes.slack_server import sign_request

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

MAX_EXAMPLES = 10
# Routes owned by other modules (Slack, browser pages) are tested there.
SKIP_PREFIXES = ("/v1/slack", "/console", "/help", "/static")


def test_no_operation_answers_5xx_or_off_schema(pg_server: LiveServer) -> None:
    server, url = pg_server.server, pg_server.database_url
    headers = {"Authorization": f"Bearer {create_token_in(url, 'admin')}"}
    engine = create_engine_for(url)
    for _ in range(3):
        seed_ticket(session_factory(engine))
    engine.dispose()

    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    tested = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        if operation.path.startswith(SKIP_PREFIXES):
            continue
        tested.append(f"{operation.method.upper()} {operation.path}")

        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(mode))
            def check(case: Any) -> None:
                case.call_and_validate(base_url=server.url, headers=headers, checks=checks)

            try:
                check()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to break in /healthz
    assert "POST /v1/drafts/{draft_id}/approve" in tested
    assert len(tested) >= 12


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


# Inputs that once answered 5xx (issue 14), sent as explicit cases: raw bytes, because a
# JSON encoder would refuse NaN or turn 1e400 into Infinity.
TICKET_CASES = {
    f"metadata nested {depth}": b'{"message":"401 on /quotes","metadata":{"x":'
    + _nested(depth)
    + b"}}"
    for depth in (255, 600, 990)
} | {
    f"metadata {raw.decode()}": b'{"message":"401 on /quotes","metadata":{"x":' + raw + b"}}"
    for raw in (b"NaN", b"Infinity", b"-Infinity", b"1e400")
}


def _slack_event(**event: str) -> bytes:
    fields = {"type": "message", "channel": "C0SUPPORT", "user": "U0DEV", "ts": "1.000100"}
    fields.update(event)
    return json.dumps(
        {"type": "event_callback", "event_id": f"Ev{uuid.uuid4().hex[:10]}", "event": fields}
    ).encode()


SLACK_CASES = {
    "slack text with NUL": lambda: _slack_event(text="why\u0000 401?", ts="2.000100"),
    "slack channel too long": lambda: _slack_event(text="hi", channel="C" * 300),
    "slack user too long": lambda: _slack_event(text="hi", user="U" * 400, ts="3.000100"),
    "slack body nested past the parser": lambda: _nested(5000),
}


def test_payloads_that_once_answered_5xx_answer_4xx_or_are_acknowledged(
    pg_server: LiveServer,
) -> None:
    server, url = pg_server.server, pg_server.database_url
    headers = {"Authorization": f"Bearer {create_token_in(url, 'integration')}"}
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    checks = [not_a_server_error, status_code_conformance, content_type_conformance]
    tickets = schema["/v1/tickets"]["POST"]
    for name, body in TICKET_CASES.items():
        case = tickets.Case(body=body, media_type="application/json")
        response = case.call_and_validate(base_url=server.url, headers=headers, checks=checks)
        assert response.status_code == 422, (name, response.text)
    slack = schema["/v1/slack/events"]["POST"]
    for name, make in SLACK_CASES.items():
        body = make()
        signed = sign_request(PG_SERVER_SLACK_SECRET, body)
        case = slack.Case(body=body, media_type="application/json")
        response = case.call_and_validate(base_url=server.url, headers=signed, checks=checks)
        assert response.status_code < 500, (name, response.text)
