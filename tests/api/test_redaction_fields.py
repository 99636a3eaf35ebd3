"""Secrets never stored or returned, whichever field they were pasted into (issue 14).

Through the real API and services: a ticket whose message, metadata (nested), reporter and
external_ref carry the kinds the issue listed as missed; an agent's edited text and
reasons; an Idempotency-Key.  Every table is read back and every response checked.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy import text

from tests.api.conftest import Api, MakeApi, seed_ticket
from tests.postgres import PostgresDatabases

UUID = "019a2b3c-4d5e-7f60-8a9b-1c2d3e4f5a6b"
GRID_SECRET = "9Qz7xL2mT8vB1nK4cW6yR3pH5jD0sAfE"
AWS = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Lm2Tk9d"
PASSWORD = "Perro_2024!x"
STRIPE_TAIL = "51HxAbCdEfGh123456IjKl"
PHRASE = "orange tigre velvet planeta copper violin marble sunset harbor pencil rocket meadow"
ENCODED = base64.b64encode(f"client_secret={GRID_SECRET}".encode()).decode()

# (message, the substrings that must never come back), one per missed kind.
MISSED = [
    (f"AWS_SECRET_ACCESS_KEY={AWS} and uploads still fail", [AWS]),
    (f"~/.aws/credentials\n[default]\naws_secret_access_key = {AWS}", [AWS]),
    (f"client id {UUID}, client secret {GRID_SECRET}. Why 401?", [UUID, GRID_SECRET]),
    (f"my client secret is {GRID_SECRET}", [GRID_SECRET]),
    (f"curl with {UUID}:{GRID_SECRET} gives 401", [UUID, GRID_SECRET]),
    (f"Hola, mi clave secreta es {GRID_SECRET} y falla", [GRID_SECRET]),
    (f"my password is {PASSWORD} and login fails", [PASSWORD]),
    (f"mi contraseña es {PASSWORD}", [PASSWORD]),
    (f"the 12 words are {PHRASE}", ["tigre velvet planeta", "meadow"]),
    (f"frase de recuperación: {PHRASE}", ["tigre velvet planeta", "meadow"]),
    (f"Authorization: Bearer {UUID}:{GRID_SECRET}", [UUID, GRID_SECRET]),
    (f"key sk_live_\u200b{STRIPE_TAIL} is refused", [STRIPE_TAIL]),
    (f"key sk_liv\u0435_{STRIPE_TAIL} is refused", [STRIPE_TAIL]),
    ("my key is sk_live_51HxAbCdEf\nGh123456IjKlMn and it fails", ["Gh123456IjKlMn"]),
    (f"config (base64): {ENCODED}", [ENCODED, GRID_SECRET]),
]
EVERY_SECRET = sorted({s for _, secrets in MISSED for s in secrets})


def _stored(api: Api) -> str:
    """Every row of every table the services write, as text."""
    dumped = []
    with api.sessions() as session:
        tables = ("tickets", "drafts", "review_events", "audit_log", "outbox", "idempotency_keys")
        for table in tables:
            dumped += [repr(tuple(row)) for row in session.execute(text(f"SELECT * FROM {table}"))]
    return "\n".join(dumped)


def _assert_absent(haystack: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        assert secret not in haystack, f"{secret!r} found in {where}"


def _create(api: Api, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    created = api.client.post(
        "/v1/tickets", json=body, headers={**api.auth("integration"), **headers}
    )
    assert created.status_code == 201, created.text
    got = api.client.get(f"/v1/tickets/{created.json()['id']}", headers=api.auth())
    _assert_absent(created.text + got.text, EVERY_SECRET, "the API responses")
    ticket: dict[str, Any] = created.json()
    return ticket


def test_each_missed_kind_in_the_message_is_neither_stored_nor_returned(api: Api) -> None:
    for message, secrets in MISSED:
        ticket = _create(api, {"message": message})
        assert ticket["redactions"], message
        _assert_absent(ticket["message"], secrets, "the stored message")
    _assert_absent(_stored(api), EVERY_SECRET, "the database")


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_secrets_in_metadata_reporter_and_external_ref_are_redacted(
    backend: str, make_api: MakeApi, pg_databases: PostgresDatabases
) -> None:
    api = make_api(database_url=pg_databases.create()) if backend == "postgresql" else make_api()
    metadata = {
        "password": "hunter2-x",  # a word-like value: the key says what it is
        "env": {"AWS_SECRET_ACCESS_KEY": AWS, "notes": [f"my client secret is {GRID_SECRET}"]},
        "pairs": [f"{UUID}:{GRID_SECRET}", {"deep": {"deeper": ENCODED}}],
        "order": "ord_123",
        f"sk_live_{STRIPE_TAIL}": True,
        "count": 3,
    }
    ticket = _create(
        api,
        {
            "message": "Payouts fail since yesterday, see metadata.",
            "metadata": metadata,
            "reporter": f"dev@example.com password {PASSWORD}",
            "external_ref": f"thread-{UUID}:{GRID_SECRET}",
        },
    )
    secrets = [AWS, GRID_SECRET, ENCODED, PASSWORD, "hunter2-x", STRIPE_TAIL]
    _assert_absent(repr(ticket), secrets, "the ticket")
    _assert_absent(_stored(api), secrets, "the database")
    # What is not a secret survives as sent; the ticket records what was removed.
    assert ticket["metadata"]["order"] == "ord_123"
    assert ticket["metadata"]["count"] == 3
    assert ticket["metadata"]["password"] == "[REDACTED:password]"
    assert ticket["reporter"].startswith("dev@example.com password [REDACTED:")
    assert {"password", "aws_secret_key", "api_secret"} <= {r["kind"] for r in ticket["redactions"]}


def test_agent_edits_and_reasons_are_redacted(api: Api) -> None:
    ticket_id, draft_id = seed_ticket(api.sessions)
    edited = f"Use client secret {GRID_SECRET} for now, then rotate it."
    approved = api.client.post(
        f"/v1/drafts/{draft_id}/approve",
        json={"text": edited},
        headers={**api.auth("agent"), "Idempotency-Key": "approve-1"},
    )
    assert approved.status_code == 200, approved.text
    assert "[REDACTED:api_secret]" in approved.json()["final_text"]

    other_ticket, other_draft = seed_ticket(api.sessions)
    rejected = api.client.post(
        f"/v1/drafts/{other_draft}/reject",
        json={"reason_code": "other", "reason": f"customer pasted AWS_SECRET_ACCESS_KEY={AWS}"},
        headers={**api.auth("agent"), "Idempotency-Key": "reject-1"},
    )
    assert rejected.status_code == 200, rejected.text
    escalated = api.client.post(
        f"/v1/tickets/{other_ticket}/escalate",
        json={"reason": f"mi contraseña es {PASSWORD}, revisen la cuenta"},
        headers={**api.auth("agent"), "Idempotency-Key": "escalate-1"},
    )
    assert escalated.status_code == 200, escalated.text
    responses = approved.text + rejected.text + escalated.text
    for tid in (ticket_id, other_ticket):
        for path in (f"/v1/tickets/{tid}", f"/v1/tickets/{tid}/audit"):
            responses += api.client.get(path, headers=api.auth()).text
    _assert_absent(responses, [GRID_SECRET, AWS, PASSWORD], "the API responses")
    _assert_absent(_stored(api), [GRID_SECRET, AWS, PASSWORD], "the database")


def test_an_idempotency_key_holding_a_secret_is_stored_hashed_and_still_replays(api: Api) -> None:
    key = f"retry-{UUID}:{GRID_SECRET}"
    body = {"message": "How do I list my payouts?"}
    first = _create(api, body, **{"Idempotency-Key": key})
    again = _create(api, body, **{"Idempotency-Key": key})
    assert again["id"] == first["id"]
    mismatch = api.client.post(
        "/v1/tickets",
        json={"message": "another question"},
        headers={**api.auth("integration"), "Idempotency-Key": key},
    )
    assert mismatch.status_code == 422
    _assert_absent(mismatch.text, [GRID_SECRET, UUID], "the mismatch error")
    _assert_absent(_stored(api), [GRID_SECRET, UUID], "the database")
    plain = _create(api, body, **{"Idempotency-Key": "retry-plain-1"})
    assert "retry-plain-1" in _stored(api)  # keys without secrets are stored as sent
    assert plain["id"] != first["id"]
