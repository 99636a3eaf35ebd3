"""Property-based API testing from the OpenAPI document (schemathesis, live server).

Every operation gets a bounded number of generated requests, valid ones (positive) and
invalid ones (negative: wrong types, missing fields, broken auth), sent with an admin
token; none may answer 5xx, and every answer must match what the document declares
(status code, content type, body schema).  The server runs on PostgreSQL, which is the
stricter backend (e.g. it refuses U+0000 in text).
"""

from __future__ import annotations

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
from tests.api.conftest import LiveServer, create_token_in, seed_ticket

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
