"""Health, metrics, request ids and structured access logs."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import create_engine

from app.observability import JsonFormatter
from tests.api.conftest import Api, seed_ticket


def test_healthz_checks_database_and_knowledge_base(api: Api) -> None:
    response = api.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "knowledge_base": "ok"}}
    runtime = api.app.state.services.runtime
    healthy = runtime.engine
    runtime.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    try:
        down = api.client.get("/healthz")
    finally:
        runtime.engine.dispose()
        runtime.engine = healthy
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    assert down.json()["checks"]["database"].startswith("error")
    assert down.json()["checks"]["knowledge_base"] == "ok"


def test_metrics_cover_requests_tickets_decisions_and_queue_depth(api: Api) -> None:
    created = api.client.post(
        "/v1/tickets", json={"message": "How do I authenticate API calls?"},
        headers=api.auth("integration"),
    ).json()  # fmt: skip
    seed_ticket(api.sessions)
    api.client.get(f"/v1/tickets/{created['id']}", headers=api.auth())
    text = api.client.get("/metrics").text
    category, priority = created["triage"]["category"], created["triage"]["priority"]
    assert (
        f'triage_tickets_created_total{{category="{category}",channel="api",'
        f'priority="{priority}"}} 1.0'
    ) in text
    assert 'route="/v1/tickets/{ticket_id}"' in text
    assert "triage_http_request_duration_seconds_bucket" in text
    assert 'triage_review_queue_depth{status="pending_review"} 2.0' in text


def test_request_id_is_echoed_or_generated(api: Api) -> None:
    echoed = api.client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = api.client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert generated.headers["x-request-id"] != "bad id\twith spaces"
    assert len(api.client.get("/healthz").headers["x-request-id"]) == 32


def test_access_log_is_json_with_request_id_and_no_bodies(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="triage.access"):
        api.client.post(
            "/v1/tickets",
            json={"message": "Where is the quote endpoint documented?"},
            headers={**api.auth("integration"), "X-Request-ID": "req-log-1"},
        )
    records = [r for r in caplog.records if r.name == "triage.access"]
    assert records
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["request_id"] == "req-log-1"
    assert line["method"] == "POST"
    assert line["route"] == "/v1/tickets"
    assert line["status"] == 201
    assert line["duration_ms"] > 0
    everything = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert "quote endpoint" not in everything
    assert api.integration not in everything


def test_openapi_is_complete(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert all(op.get("summary") and op.get("tags") for op in operations)
    approve = schema["paths"]["/v1/drafts/{draft_id}/approve"]["post"]
    assert approve["requestBody"]["content"]["application/json"]["examples"]
    assert "application/problem+json" in approve["responses"]["409"]["content"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in approve["parameters"])
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    for path in ("/v1/tickets", "/v1/review/queue", "/v1/search", "/v1/ask", "/healthz"):
        assert path in schema["paths"]
