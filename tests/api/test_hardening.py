"""What broke when the service was attacked (issue 14), in-process on SQLite: bad input
is a 4xx and stores nothing, integrations stay in their lane, actors are unambiguous,
an orphaned Idempotency-Key frees itself within its lease, `triage serve` fails in one
line.  The PostgreSQL halves run against real servers in test_hardening_live.py."""

from __future__ import annotations

import subprocess
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.api.idempotency import scope_for
from app.store import idempotency
from app.store.models import AuditLog, Ticket
from tests.api.conftest import PYTHON, REPO_ROOT, Api, MakeApi, base_env, seed_ticket
from tests.api.test_errors import assert_problem

# Bodies that used to answer 500 (PydanticSerializationError) or, on SQLite, store null.
BAD_METADATA_BODIES = [
    pytest.param(b'{"a":' * depth + b"1" + b"}" * depth, id=f"nested-{depth}")
    for depth in (255, 600, 990, 5000)
] + [pytest.param(raw, id=raw.decode()) for raw in (b"NaN", b"Infinity", b"-Infinity", b"1e400")]


def ticket_body(metadata: bytes) -> bytes:
    return b'{"message": "Why does POST /quotes return 401?", "metadata": {"x": ' + metadata + b"}}"


def tickets_stored(api: Api) -> int:
    with api.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Ticket)) or 0)


@pytest.mark.parametrize("metadata", BAD_METADATA_BODIES)
def test_unstorable_metadata_is_a_422_and_stores_nothing(api: Api, metadata: bytes) -> None:
    response = api.client.post(
        "/v1/tickets",
        content=ticket_body(metadata),
        headers={**api.auth("integration"), "Content-Type": "application/json"},
    )
    problem = assert_problem(response, 422)
    assert problem["errors"]
    assert tickets_stored(api) == 0


def test_integrations_cannot_aim_replies_at_slack(api: Api) -> None:
    body = {
        "message": "How do I rotate keys?",
        "channel": "slack",
        "external_ref": '{"channel":"C0ATTACKER","thread_ts":"1.0"}',
    }
    refused = api.client.post("/v1/tickets", json=body, headers=api.auth("integration"))
    problem = assert_problem(refused, 403)
    assert problem["type"] == "urn:triage:problem:forbidden-destination"
    assert tickets_stored(api) == 0
    # A person may still file one (the sender only posts to support channels anyway).
    assert api.client.post("/v1/tickets", json=body, headers=api.auth("agent")).status_code == 201


def test_an_integration_reads_its_own_tickets_and_their_reply_only(make_api: MakeApi) -> None:
    api = make_api()
    created = api.client.post(
        "/v1/tickets",
        json={"message": "How do I test payouts in the sandbox?"},
        headers=api.auth("integration"),
    ).json()
    mine = api.client.get(f"/v1/tickets/{created['id']}", headers=api.auth("integration"))
    assert mine.status_code == 200, mine.text
    # Before an agent decides, the integration sees no draft and no review trail.
    assert (mine.json()["draft"], mine.json()["drafts"], mine.json()["review"]) == (None, [], [])

    approved = api.client.post(
        f"/v1/drafts/{created['draft']['id']}/approve",
        json={"text": "Use the sandbox environment and its test accounts."},
        headers={**api.auth("agent"), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert approved.status_code == 200, approved.text
    reply = api.client.get(f"/v1/tickets/{created['id']}", headers=api.auth("integration")).json()
    assert reply["draft"]["final_text"] == "Use the sandbox environment and its test accounts."
    assert reply["review"] == []

    others, _ = seed_ticket(api.sessions)
    assert_problem(api.client.get(f"/v1/tickets/{others}", headers=api.auth("integration")), 404)
    missing = api.client.get("/v1/tickets/tkt_nope", headers=api.auth("integration"))
    assert_problem(missing, 404)
    audit = api.client.get(f"/v1/tickets/{created['id']}/audit", headers=api.auth("integration"))
    assert_problem(audit, 403)


@pytest.mark.parametrize(
    "name",
    ["<script>alert(1)</script>", "system:auto-send", "alice\nbob", "  padded", "x" * 101],
)
def test_token_names_that_could_mislead_the_audit_trail_are_422(api: Api, name: str) -> None:
    response = api.client.post(
        "/v1/tokens", json={"role": "agent", "name": name}, headers=api.auth("admin")
    )
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"] == ["body", "name"]  # type: ignore[index]


def test_token_names_are_unique_and_the_audit_actor_is_the_token(api: Api) -> None:
    first = api.client.post(
        "/v1/tokens", json={"role": "agent", "name": "bob"}, headers=api.auth("admin")
    )
    assert first.status_code == 201
    again = api.client.post(
        "/v1/tokens", json={"role": "agent", "name": "bob"}, headers=api.auth("admin")
    )
    assert assert_problem(again, 422)["type"] == "urn:triage:problem:invalid-token-name"
    created = api.client.post(
        "/v1/tickets", json={"message": "Where are the docs?"}, headers=api.auth("integration")
    ).json()
    with api.sessions() as session:
        actors = set(
            session.scalars(select(AuditLog.actor).where(AuditLog.ticket_id == created["id"]))
        )
    token_id = api.client.get("/v1/tokens", headers=api.auth("admin")).json()
    integration = next(t["id"] for t in token_id if t["name"] == "integration-1")
    assert f"{integration}:integration-1" in actors


def test_an_orphaned_idempotency_key_frees_itself_after_its_lease(make_api: MakeApi) -> None:
    api = make_api(idempotency_lease_seconds=1)
    _, draft_id = seed_ticket(api.sessions)
    path = f"/v1/drafts/{draft_id}/approve"
    tokens = api.client.get("/v1/tokens", headers=api.auth("admin")).json()
    agent = next(t["id"] for t in tokens if t["name"] == "agent-1")
    # An attempt claimed the key, then its process died (no finish, no abandon).
    with api.sessions.begin() as session:
        idempotency.begin(
            session,
            scope_for("POST /v1/drafts/{draft_id}/approve", agent),
            "orphan",
            idempotency.fingerprint("POST", path, b"{}"),
            holder="dead-process",
            lease=timedelta(seconds=1),
        )
    retry = {**api.auth("agent"), "Idempotency-Key": "orphan", "Content-Type": "application/json"}
    assert_problem(api.client.post(path, content=b"{}", headers=retry), 409)
    time.sleep(1.2)
    taken_over = api.client.post(path, content=b"{}", headers=retry)
    assert taken_over.status_code == 200, taken_over.text


def test_slack_events_document_their_401(api: Api) -> None:
    schema: dict[str, Any] = api.client.get("/openapi.json").json()
    responses = schema["paths"]["/v1/slack/events"]["post"]["responses"]
    assert {"401", "400", "503"} <= set(responses)


@pytest.mark.postgres
def test_serve_against_an_unreachable_database_says_so_in_one_line(
    models_dir: Any, pg_databases: Any
) -> None:
    missing = pg_databases.create().rsplit("/", 1)[0] + "/triage_no_such_database"
    proc = subprocess.run(
        [PYTHON, "-c", "from app.cli import main; main()", "serve", "--port", "1"],
        env=base_env(models_dir, TRIAGE_DATABASE_URL=missing),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "cannot reach the database" in lines[0]
    assert "triage_no_such_database" in lines[0]
    assert "Traceback" not in proc.stderr


def test_serve_trusts_forwarded_headers_only_from_configured_proxies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import uvicorn

    from app.cli.serve import serve

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(tmp_path))
    serve(host="127.0.0.1", port=8123, workers=1)
    monkeypatch.setenv("TRIAGE_FORWARDED_ALLOW_IPS", "10.0.0.7,10.1.0.0/16")
    serve(host="127.0.0.1", port=8123, workers=1)
    default, configured = calls
    assert (default["proxy_headers"], default["forwarded_allow_ips"]) == (False, "")
    assert (configured["proxy_headers"], configured["forwarded_allow_ips"]) == (
        True,
        "10.0.0.7,10.1.0.0/16",
    )
