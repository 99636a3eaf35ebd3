"""Developer signals from realistic support messages, with error codes from the real spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.triage.screen.signals import Endpoint, extract_signals


@pytest.fixture(scope="module")
def known_codes(grid_root: Path) -> frozenset[str]:
    """Every `code` enum declared by the spec's Error<status> schemas."""
    with (grid_root / "openapi.yaml").open() as fh:
        spec: dict[str, Any] = yaml.load(fh, Loader=yaml.CSafeLoader)
    codes: set[str] = set()
    for name, schema in spec["components"]["schemas"].items():
        if name.startswith("Error"):
            codes.update(schema.get("properties", {}).get("code", {}).get("enum", []))
    assert {"INVALID_INPUT", "QUOTE_NOT_FOUND", "FORBIDDEN", "RATE_LIMITED"} <= codes
    return frozenset(codes)


SLACK_CURL = """hey team :wave: since ~09:00 UTC we're getting a 422 on POST /quotes in production
```
curl -X POST "https://api.lightspark.com/grid/2025-10-13/quotes" \\
  -u "[REDACTED:client_id]:[REDACTED:api_secret]" \\
  -H "Idempotency-Key: 7f1c2a9e-3b4d-4c5e-8f60-1a2b3c4d5e6f" \\
  -d '{"lookupId": "Lookup:019542f5-b3e7-1d02-0000-000000000009", "sendingAmount": 1000}'
```
HTTP/1.1 422
x-request-id: 3f9a1c2e-0b7d-4e21-9c55-1234567890ab
{"status": 422, "code": "invalid_input", "message": "expired", "requestId": "req_8Hq2LmN0pXz"}
we use the grid-js-sdk (TypeScript). The payout to our customer is still pending for 3 days."""


def test_slack_message_with_curl_and_error_body(known_codes: frozenset[str]) -> None:
    signals = extract_signals(SLACK_CURL, known_codes)
    assert signals.http_statuses == [422]
    assert signals.error_codes == ["INVALID_INPUT"]  # case-insensitive, canonical form
    assert signals.unknown_error_codes == []
    assert signals.endpoints == [Endpoint(method="POST", path="/quotes")]
    assert signals.request_ids == ["3f9a1c2e-0b7d-4e21-9c55-1234567890ab", "req_8Hq2LmN0pXz"]
    assert signals.idempotency_keys == ["7f1c2a9e-3b4d-4c5e-8f60-1a2b3c4d5e6f"]
    assert signals.api_version == "2025-10-13"
    assert signals.sdk == "grid-js-sdk"
    assert signals.programming_language == "typescript"
    assert signals.environment == "production"
    assert signals.mentions_money_stuck
    assert not signals.mentions_outage
    assert json.loads(signals.model_dump_json())["endpoints"] == [
        {"method": "POST", "path": "/quotes"}
    ]


def test_python_stack_trace(known_codes: frozenset[str]) -> None:
    trace = """Traceback (most recent call last):
  File "/srv/app/payouts.py", line 42, in create_transfer
    resp = requests.post(f"{BASE}/transfer-out", json=body)
requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://api.lightspark.com/grid/2025-10-13/transfer-out
We're on sandbox credentials. We sent 500 USD in 2025 and it worked."""
    signals = extract_signals(trace, known_codes)
    assert signals.http_statuses == [401]
    assert signals.endpoints == [Endpoint(method="POST", path="/transfer-out")]
    assert signals.programming_language == "python"
    assert signals.environment == "sandbox"
    assert signals.api_version == "2025-10-13"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("we got a 409 when retrying", [409]),
        ("HTTP 500 from the quotes endpoint", [500]),
        ('"status": 401, "message": "bad creds"', [401]),
        ("503 Service Unavailable, then 429 Too Many Requests", [503, 429]),
        ("statusCode === 404 in our handler", [404]),
        ("getting 500s everywhere", [500]),
        ("la API devuelve un 400 y luego error 502", [400, 502]),
        ("a chamada retorna 403", [403]),
        ("sent 500 USD, then 250 EUR; retried 200 times in 2025", []),
        ("the fee was $404 and took 300ms", []),
        ("we have 422 customers onboarded", []),
        ("the burn came back 503 Provider unavailable", [503]),
    ],
)
def test_http_statuses(text: str, expected: list[int]) -> None:
    assert extract_signals(text).http_statuses == expected


def test_error_codes_known_unknown_and_prose(known_codes: frozenset[str]) -> None:
    text = (
        'First {"code": "QUOTE_NOT_FOUND"}, then {"code": "SOMETHING_NEW_ERROR"}'
        " and rate_limited.\n"
        'The page said forbidden. {"code": "FORBIDDEN"} and {"currency": {"code": "USD"}}'
    )
    signals = extract_signals(text, known_codes)
    assert signals.error_codes == ["QUOTE_NOT_FOUND", "RATE_LIMITED", "FORBIDDEN"]
    assert signals.unknown_error_codes == ["SOMETHING_NEW_ERROR"]
    # Without the catalogue every code-shaped JSON value is unknown.
    assert extract_signals(text).unknown_error_codes == ["QUOTE_NOT_FOUND", "SOMETHING_NEW_ERROR"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET /customers/{customerId} returns 404",
            [Endpoint(method="GET", path="/customers/{customerId}")],
        ),
        (
            "PATCH https://api.lightspark.com/grid/2025-10-13/customers/Customer:019542f5-b3e7-1d02-0000-000000000001",
            [Endpoint(method="PATCH", path="/customers/{id}")],
        ),
        (
            "curl \"$GRID_BASE_URL/sandbox/internal-accounts/InternalAccount:btc001/fund\" -d '{}'",
            [Endpoint(method="POST", path="/sandbox/internal-accounts/{id}/fund")],
        ),
        (
            "curl https://api.lightspark.com/grid/2025-10-13/transactions?limit=10",
            [Endpoint(method="GET", path="/transactions")],
        ),
        (
            "see https://api.lightspark.com/grid/2025-10-13/quotes.",
            [Endpoint(method=None, path="/quotes")],
        ),
        ("docs at https://docs.lightspark.com/api-reference/quotes", []),
        (
            "await axios.post('/webhooks/test', body)",
            [Endpoint(method="POST", path="/webhooks/test")],
        ),
    ],
)
def test_endpoints(text: str, expected: list[Endpoint]) -> None:
    assert extract_signals(text).endpoints == expected


def test_ids_and_version_from_headers() -> None:
    text = (
        "Request ID: req_7Zk2Pq9LmX4 and request-id 5d1e0c3a-aaaa-4bbb-8ccc-0123456789ab\n"
        '{"idempotencyKey": "payout-2025-10-13-0001"}\nGrid-Version: 2025-10-13\n'
        "the idempotency key header is ignored; Idempotency-Key: $(uuidgen)"
    )
    signals = extract_signals(text)
    assert signals.request_ids == ["req_7Zk2Pq9LmX4", "5d1e0c3a-aaaa-4bbb-8ccc-0123456789ab"]
    assert signals.idempotency_keys == ["payout-2025-10-13-0001"]
    assert signals.api_version == "2025-10-13"


@pytest.mark.parametrize(
    ("text", "sdk", "language"),
    [
        ("const res = await fetch(url); console.log(res.status) // node 20", None, "javascript"),
        ("import requests\nrequests.post(url, auth=(cid, secret))", None, "python"),
        ("package main\n\nif err != nil { log.Fatal(err) }", None, "go"),
        (
            'Exception in thread "main" java.io.IOException\n  at com.acme.Pay.run(Pay.java:12)',
            None,
            "java",
        ),
        (
            "using grid-kotlin-sdk: suspend fun pay() { val q = grid.quotes.create() }",
            "grid-kotlin-sdk",
            "kotlin",
        ),
        ("URLSession in our Swift app drops the Idempotency-Key", None, "swift"),
        ("Faraday.post in our Ruby service", None, "ruby"),
        ("<?php $client->post('/quotes');", None, "php"),
        ('curl -X GET "$GRID_BASE_URL/config"', None, "curl"),
        ("Is there a python sdk?", "python-sdk", "python"),
        ("What is the SWIFT code for the EUR payout? Swift transfer took 3 days.", None, None),
        ("Following the Postman collection, GET /config fails", "postman", None),
    ],
)
def test_sdk_and_language(text: str, sdk: str | None, language: str | None) -> None:
    signals = extract_signals(text)
    assert signals.sdk == sdk
    assert signals.programming_language == language


@pytest.mark.parametrize(
    ("text", "environment"),
    [
        ("This only happens in production, sandbox works fine.", "production"),
        ("Testing in sandbox before we go to production.", "sandbox"),
        ("Estamos en producción y todo falla.", "production"),
        ("No ambiente de testes funciona.", "sandbox"),
        ("POST $GRID_BASE_URL/sandbox/send returns 400", "sandbox"),
        ("We went live yesterday.", "production"),
        ("how do quotes expire?", None),
    ],
)
def test_environment(text: str, environment: str | None) -> None:
    assert extract_signals(text).environment == environment


@pytest.mark.parametrize(
    "text",
    [
        "The payout hasn't arrived after 3 days",
        "our USDC transfer is stuck",
        "customer funds are still pending since Monday",
        "Where is my money? Transaction:019542f5-b3e7-1d02-0000-000000000100",
        "El pago no ha llegado al cliente",
        "los fondos están retenidos desde ayer",
        "O pix não caiu na conta e o dinheiro sumiu",
        "transferência travada há dois dias",
        # A status held for hours, across a pasted id and a thousands separator.
        "um saque de 18.500 USDC (Transaction:019e1111-2222-7333-8444-555566667777) para "
        "a carteira do cliente está em PROCESSING há 5 horas",
        "withdrawal Transaction:019e1111-2222-7333-8444-555566667777 has been processing "
        "for 9 hours",
        "el saldo de la cuenta interna sigue igual después de 30 confirmaciones",
        "o cliente não recebeu o dinheiro do reembolso até agora",
        "the supplier still has not received the funds",
        "the wire was sent Tuesday and the money isn't in any balance we can see",
    ],
)
def test_money_stuck(text: str) -> None:
    assert extract_signals(text).mentions_money_stuck


@pytest.mark.parametrize(
    "text",
    [
        "How do I cancel a pending transfer?",
        "The payment request is missing a required field",
        '{"status": "PENDING", "type": "OUTGOING"}',
        "How long does a SEPA payout take?",
        "does the payment amount stay the same if the rate moves before execute?",
        "we haven't received the payment webhook for this test yet",
        "how long can a payout stay in PROCESSING before it fails?",
        "the reference field is not in the account object we get back",
    ],
)
def test_money_not_stuck(text: str) -> None:
    assert not extract_signals(text).mentions_money_stuck


@pytest.mark.parametrize(
    "text",
    [
        "Is the Grid API down? 503s everywhere",
        "all requests are failing since 10:02 UTC",
        "major outage on our side?",
        "La API está caída desde hace una hora",
        "a API caiu, está fora do ar",
        "we stopped receiving webhooks an hour ago",
        "Since about 02:00 UTC our endpoint hasn't received any events",
        "Are webhook deliveries delayed on your side?",
        "dejamos de recibir webhooks desde anoche",
        "paramos de receber eventos hoje cedo",
        # One flow answering 5xx for a sustained time, or the customer's whole flow stopped.
        "POST /customers/{id}/kyc-link has been returning 503 for about 40 minutes",
        "el endpoint de cotizaciones está devolviendo 502 desde hace media hora",
        "a rota de saques está retornando 500 há 20 minutos",
        "our entire checkout is stopped",
        "our servers keep getting 503s for 20 minutes now",
        # A pasted 5xx with an onset and a scope, with no outage word.
        "PROD: since 07:10 UTC every POST /auth/credentials/{id}/challenge returns "
        '{"status":503} and nobody can sign in',
        "Cero fondeos desde las 9:05: cada POST /transfer-in truena con INTERNAL_ERROR (HTTP 500)",
        # A client's connection error is how our outage looks from their side.
        "all production payouts failing since 10:00 UTC: requests.exceptions.ConnectionError: "
        "HTTPSConnectionPool(host='api.lightspark.com') Max retries exceeded",
    ],
)
def test_outage(text: str) -> None:
    assert extract_signals(text).mentions_outage


@pytest.mark.parametrize(
    "text",
    [
        "Scroll down to the webhook section",
        "we want to narrow down which customer failed",
        "the down payment is 500 USD",
        "O pagamento caiu na conta, obrigado!",
        "one request returned 503 once",
        "I set up my endpoint but haven't received any webhooks yet",
        "how do I stop receiving webhooks for a deleted customer?",
        "since 2023 we have used your API",
        "POST /quotes returned 502 once this morning, retrying worked",
        "how do we keep our whole integration running if a webhook is delayed?",
        "our webhook endpoint returned 503 for about 3 minutes during a deploy",
        # The developer's own outage (grid_holdout_k, read after it was measured).
        "missed KYC webhooks during our outage: a bad deploy made our production webhook "
        "endpoint return 500 for everything over the weekend. Will Grid redeliver them?",
        # An onset and a 5xx, but one request shape failing, not everyone.
        "Since 09:00 UTC POST /quotes returns 500 when I send all optional fields",
        # A PHP array's "=>" is not a status.
        "since 9am every time: $body = ['amount' => 500]; what's wrong?",
        # An exception raised by the developer's own handler (grid_holdout_p, read after it
        # was measured): every prod webhook rejected, but by their own decoding bug.
        "every event 401s on our side, traceback is binascii.Error: Incorrect padding at "
        "base64.b64decode(signature). all prod payout webhooks are being rejected right now",
        "every production webhook fails since the deploy: TypeError: Cannot read properties "
        "of undefined (reading 'signature')",
    ],
)
def test_not_outage(text: str) -> None:
    assert not extract_signals(text).mentions_outage


def test_empty_message_is_all_defaults() -> None:
    assert json.loads(extract_signals("").model_dump_json()) == {
        "http_statuses": [],
        "error_codes": [],
        "unknown_error_codes": [],
        "endpoints": [],
        "request_ids": [],
        "idempotency_keys": [],
        "api_version": None,
        "sdk": None,
        "programming_language": None,
        "environment": None,
        "mentions_money_stuck": False,
        "mentions_outage": False,
    }
