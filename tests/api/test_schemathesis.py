"""Property-based API testing from the OpenAPI document (schemathesis, live server).

Every operation gets a bounded number of generated requests, sent with an admin token
so they reach the handlers; none may answer 5xx, and every answer must match what the
document declares (status code, content type, body schema).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import Server, base_env, create_token_in, seed_ticket

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 12
# Routes owned by other modules (Slack, browser pages) are tested there.
SKIP_PREFIXES = ("/v1/slack", "/console", "/help", "/static")


def test_no_operation_answers_5xx_or_off_schema(
    tmp_path: Path, models_dir: Path, servers: list[Server], pipeline: object
) -> None:
    url = f"sqlite:///{tmp_path / 'st.db'}"
    env = base_env(
        models_dir,
        TRIAGE_DATA_DIR=str(tmp_path / "data"),
        TRIAGE_DATABASE_URL=url,
        TRIAGE_LOG_LEVEL="WARNING",
        TRIAGE_PUBLIC_ASK_RATE_PER_MINUTE="1000",
    )
    server = Server(env, tmp_path / "server.log")
    servers.append(server)
    server.start()
    headers = {"Authorization": f"Bearer {create_token_in(url, 'admin')}"}
    from app.store import create_engine_for, session_factory

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

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            case.call_and_validate(base_url=server.url, headers=headers, checks=checks)

        check()
    assert "POST /v1/drafts/{draft_id}/approve" in tested
    assert len(tested) >= 12
