"""Secret redaction on realistic support messages, with fake secrets generated here."""

from __future__ import annotations

import base64
import csv
import json
import random
import string
from pathlib import Path

import pytest
from mnemonic import Mnemonic

from app.triage.screen.secrets import RedactionResult, redact_secrets

_RNG = random.Random(20251013)
_ALNUM = string.ascii_letters + string.digits


def fake(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fake_jwt() -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": "Customer:" + fake(8), "exp": 1760000000}).encode())
    return f"{header}.{payload}.{b64url(fake(32).encode())}"


def fake_pem(kind: str = "RSA") -> str:
    label = f"{kind} PRIVATE KEY".strip()
    body = "\n".join(fake(64, _ALNUM + "+/") for _ in range(5))
    return f"-----BEGIN {label}-----\n{body}\n{fake(20)}==\n-----END {label}-----"


CLIENT_ID = "019a2b3c-4d5e-7f60-8a9b-" + fake(12, "0123456789abcdef")
CLIENT_SECRET = fake(40)


def assert_no_leak(result: RedactionResult, *secrets: str) -> None:
    dumped = result.model_dump_json()
    for secret in secrets:
        assert secret not in result.text
        assert secret not in dumped
        assert secret not in json.dumps(result.model_dump())


def kinds(result: RedactionResult) -> list[str]:
    return [r.kind for r in result.redactions]


# --- Grid Basic auth ----------------------------------------------------------------------


def test_curl_basic_auth_pair_is_redacted_as_client_id_and_secret() -> None:
    message = f"""Getting 401s, here's my call:
```
curl -X POST "https://api.lightspark.com/grid/2025-10-13/quotes" \\
  -u "{CLIENT_ID}:{CLIENT_SECRET}" \\
  -H "Content-Type: application/json" \\
  -H "Idempotency-Key: 4f1c2a9e-3b4d-4c5e-8f60-1a2b3c4d5e6f" \\
  -d '{{"lookupId": "Lookup:019542f5-b3e7-1d02-0000-000000000009"}}'
```"""
    result = redact_secrets(message)
    assert '-u "[REDACTED:client_id]:[REDACTED:api_secret]"' in result.text
    assert sorted(kinds(result)) == ["api_secret", "client_id"]
    # Everything around the credentials survives for triage.
    assert "Idempotency-Key: 4f1c2a9e-3b4d-4c5e-8f60-1a2b3c4d5e6f" in result.text
    assert "Lookup:019542f5-b3e7-1d02-0000-000000000009" in result.text
    assert "https://api.lightspark.com/grid/2025-10-13/quotes" in result.text
    assert_no_leak(result, CLIENT_ID, CLIENT_SECRET)


def test_unquoted_user_flag_and_python_auth_tuple() -> None:
    message = (
        f"curl -u {CLIENT_ID}:{CLIENT_SECRET} https://api.lightspark.com/grid/2025-10-13/config\n"
        f'requests.get(url, auth=("{CLIENT_ID}", "{CLIENT_SECRET}"))'
    )
    result = redact_secrets(message)
    assert result.text.count("[REDACTED:api_secret]") == 2
    assert result.text.count("[REDACTED:client_id]") == 2
    assert_no_leak(result, CLIENT_ID, CLIENT_SECRET)


def test_an_upper_case_auth_constant_is_a_production_pair() -> None:
    # A module-level AUTH tuple is the same credential pair as requests' auth=(...).
    message = (
        "need a 'changed since' filter for our CRM sync:\n"
        f'AUTH = ("{CLIENT_ID}", "{CLIENT_SECRET}")  # prod token\n'
        'requests.get(f"{BASE}/customers", auth=AUTH)'
    )
    result = redact_secrets(message)
    assert 'AUTH = ("[REDACTED:client_id]", "[REDACTED:api_secret]")' in result.text
    assert result.production_credential
    assert_no_leak(result, CLIENT_ID, CLIENT_SECRET)


@pytest.mark.parametrize(
    "template",
    [
        'curl -u "$GRID_CLIENT_ID:$GRID_CLIENT_SECRET" "$GRID_BASE_URL/customers"',
        'curl -u "{client_id}:{client_secret}" https://api.lightspark.com/grid/2025-10-13',
        'curl -u "sandbox_token_id:sandbox_token_secret" https://api.lightspark.com/grid/2025-10-13',
        'export GRID_API_TOKEN_ID="your-token-id"\n'
        'export GRID_API_CLIENT_SECRET="your-client-secret"',
        '"x-grid-client-id: {client id}", "x-grid-client-secret: {client secret}"',
        "GRID_CLIENT_SECRET=${GRID_CLIENT_SECRET}\nclient_secret=os.environ['GRID_CLIENT_SECRET']",
        "const secret = process.env.GRID_CLIENT_SECRET;\nclientSecret: clientSecret,",
    ],
)
def test_documentation_placeholders_are_left_alone(template: str) -> None:
    result = redact_secrets(template)
    assert result.redactions == []
    assert result.text == template


def test_docs_examples_never_look_like_credentials(grid_root: Path) -> None:
    pages = sorted(
        p for p in (grid_root / "docs" / "guides").rglob("*.md") if "-u " in p.read_text()
    )
    assert len(pages) > 20
    forbidden = {"api_secret", "client_id", "basic_auth", "card_number", "recovery_phrase"}
    for page in pages[:40]:
        result = redact_secrets(page.read_text())
        assert forbidden.isdisjoint(kinds(result)), page.name


# --- tokens and key/value forms -----------------------------------------------------------


def test_bearer_jwt_is_one_placeholder_and_the_signature_does_not_survive() -> None:
    token = fake_jwt()
    result = redact_secrets(f"-H 'Authorization: Bearer {token}'\nstill 401")
    assert result.text == "-H 'Authorization: Bearer [REDACTED:jwt]'\nstill 401"
    for part in token.split("."):
        assert part not in result.text
    assert_no_leak(result, token)


def test_opaque_bearer_token() -> None:
    token = fake(48, _ALNUM + "-_")
    result = redact_secrets(f"Authorization: Bearer {token}")
    assert result.text == "Authorization: Bearer [REDACTED:bearer_token]"
    assert_no_leak(result, token)


def test_bare_jwt_in_prose_keeps_sentence_punctuation() -> None:
    token = fake_jwt()
    result = redact_secrets(f"The accessToken we got back was {token}. It expires too fast.")
    assert result.text == "The accessToken we got back was [REDACTED:jwt]. It expires too fast."


def test_env_file_json_yaml_and_query_forms() -> None:
    webhook = "whsec_" + fake(32)
    password = "Pa$$w0rd-" + fake(6)
    token = fake(36)
    message = "\n".join(
        [
            f"GRID_CLIENT_ID={CLIENT_ID}",
            f"GRID_CLIENT_SECRET={CLIENT_SECRET}",
            f"GRID_WEBHOOK_SECRET={webhook}",
            json.dumps({"clientSecret": CLIENT_SECRET, "password": password, "status": 401}),
            f"signing_secret: '{fake(24)}'",
            f"POST /oauth/token?grant_type=client_credentials&client_secret={CLIENT_SECRET}&x=1",
            f'-H "x-api-key: {token}"',
        ]
    )
    result = redact_secrets(message)
    assert "GRID_CLIENT_ID=[REDACTED:client_id]" in result.text
    assert "GRID_CLIENT_SECRET=[REDACTED:api_secret]" in result.text
    assert "GRID_WEBHOOK_SECRET=[REDACTED:webhook_secret]" in result.text
    assert '"password": "[REDACTED:password]", "status": 401' in result.text
    assert "signing_secret: '[REDACTED:webhook_secret]'" in result.text
    assert "client_secret=[REDACTED:api_secret]&x=1" in result.text
    assert '"x-api-key: [REDACTED:api_secret]"' in result.text
    assert_no_leak(result, CLIENT_ID, CLIENT_SECRET, webhook, password, token)


def test_same_secret_twice_is_one_redaction_entry() -> None:
    result = redact_secrets(f"GRID_CLIENT_SECRET={CLIENT_SECRET}\nI also tried {CLIENT_SECRET!r}")
    assert result.text.count("[REDACTED:") >= 1
    assert kinds(result).count("api_secret") == 1
    assert_no_leak(result, CLIENT_SECRET)


@pytest.mark.parametrize(
    ("secret", "kind"),
    [
        ("AKIA" + fake(16, string.ascii_uppercase + string.digits), "aws_access_key"),
        ("ghp_" + fake(36), "github_token"),
        ("sk_live_" + fake(28), "stripe_key"),
        (
            "xoxb-" + fake(11, string.digits) + "-" + fake(12, string.digits) + "-" + fake(24),
            "slack_token",
        ),
        ("sk-proj-" + fake(48, _ALNUM + "_-"), "openai_key"),
        ("glpat-" + fake(20), "gitlab_token"),
        ("SG." + fake(22) + "." + fake(43), "sendgrid_key"),
        ("AIza" + fake(35), "google_api_key"),
    ],
)
def test_vendor_tokens(secret: str, kind: str) -> None:
    result = redact_secrets(f"our config has {secret} in it, is that why webhooks fail?")
    assert result.text == f"our config has [REDACTED:{kind}] in it, is that why webhooks fail?"
    assert_no_leak(result, secret)


@pytest.mark.parametrize("prefix", ["gs_live_", "pk_test_", "acme_sandbox_", "rk_prod_"])
def test_keys_that_carry_their_mode_in_any_vendor_prefix(prefix: str) -> None:
    secret = prefix + "9fK2mQ7xT4vB8nR1cW6yZ3pL5hJ0dS"
    result = redact_secrets(f"URGENT: our live secret {secret} leaked in a public repo")
    assert result.text == "URGENT: our live secret [REDACTED:api_secret] leaked in a public repo"
    assert_no_leak(result, secret)


@pytest.mark.parametrize(
    "text",
    [
        "the prefix gs_live_ marks production keys",
        "use pk_test_YOUR_KEY_HERE in the sandbox",
        "call my_test_function_name_here_2 first",
    ],
)
def test_mode_prefixes_without_a_random_key_stay(text: str) -> None:
    assert redact_secrets(text).redactions == []


def test_aws_secret_access_key_by_context() -> None:
    secret = fake(40, _ALNUM + "/+")
    result = redact_secrets(f"aws_secret_access_key = '{secret}'")
    assert kinds(result) == ["aws_secret_key"]
    assert_no_leak(result, secret)


def test_basic_auth_in_url_and_header() -> None:
    password = fake(16)
    header = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    result = redact_secrets(
        f"DATABASE_URL=postgres://grid_app:{password}@db.internal:5432/payouts\n"
        f"Authorization: Basic {header}"
    )
    assert "postgres://grid_app:[REDACTED:basic_auth]@db.internal:5432/payouts" in result.text
    assert "Authorization: Basic [REDACTED:basic_auth]" in result.text
    assert_no_leak(result, password, header)


def test_password_in_text_but_not_the_word_password() -> None:
    result = redact_secrets(
        "Dashboard login -> password: hunter2!x\nI reset my password yesterday."
    )
    assert (
        result.text
        == "Dashboard login -> password: [REDACTED:password]\nI reset my password yesterday."
    )
    prose = "Forgot password flow returns 500. The password field is required; password must be 8+."
    assert redact_secrets(prose).text == prose
    # With no connector, only a value holding a digit or a symbol is taken for a password.
    prose = "Should we tell Grid about failed logins and password resets? And passcode screens?"
    assert redact_secrets(prose).text == prose
    assert redact_secrets("my password hunter2 stopped working").text == (
        "my password [REDACTED:password] stopped working"
    )


def test_quoted_high_entropy_value_without_a_key_name() -> None:
    blob = fake(40, _ALNUM + "+/")
    result = redact_secrets(f'const creds = ["{blob}"]')
    assert result.text == 'const creds = ["[REDACTED:generic_high_entropy]"]'
    assert not result.production_credential  # unknown material is not called a credential


# --- assignments behind a prefix (regression: "Label: key=value" leaked) -------------------

_S = fake(30)


def test_labelled_assignment_from_the_bug_report() -> None:
    secret = "Zx9QfR2mT7vB1nK8cW4yL6pH3jD0sA"
    result = redact_secrets(f"My config: client_secret={secret} in sandbox.")
    assert result.text == "My config: client_secret=[REDACTED:api_secret] in sandbox."
    assert_no_leak(result, secret)


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        # prose labels
        (f"my config: client_secret = {_S}", "api_secret"),
        (f"config:client_secret={_S}", "api_secret"),
        (f"Note - client_secret: {_S}", "api_secret"),
        (f"[prod] api_key={_S}", "api_secret"),
        (f"(client_secret={_S})", "api_secret"),
        (f"Mi configuración: client_secret={_S} en pruebas", "api_secret"),
        (f"Error: invalid access_token={_S} for user", "access_token"),
        (f"Label: webhook_secret={_S}", "webhook_secret"),
        (f"db config: password: {_S}", "password"),
        # JSON
        (f'{{"config": "client_secret={_S}"}}', "api_secret"),
        (f'Config: {{"client_secret": "{_S}"}}', "api_secret"),
        (f'payload={{"clientSecret":"{_S}","x":1}}', "api_secret"),
        (f"Config: {{'client_secret': '{_S}'}}", "api_secret"),
        # YAML: a parent key must not take the next line as its value
        (f"grid:\n  client_secret: {_S}\n", "api_secret"),
        (f"settings:\n  auth:\n    password: {_S}", "password"),
        (f"config: {{client_secret: {_S}}}", "api_secret"),
        # env files and shells
        (f"env: GRID_CLIENT_SECRET={_S}", "api_secret"),
        (f".env file: GRID_CLIENT_SECRET={_S}", "api_secret"),
        (f"STELLAR_RECIPIENT=GPUBLIC_KEY GRID_CLIENT_SECRET={_S} node server.js", "api_secret"),
        (f"A=public_value B_SECRET_KEY={_S}", "api_secret"),
        (f'$env:GRID_CLIENT_SECRET="{_S}"', "api_secret"),
        # headers
        (f"Header: X-Client-Secret: {_S}", "api_secret"),
        (f"Cookie: session_token={_S}; path=/", "access_token"),
        # query strings
        (f"Callback: https://app.example.com/cb?client_secret={_S}&state=1", "api_secret"),
        (f"url: https://api.lightspark.com/token?client_id=abc&client_secret={_S}", "api_secret"),
        (f"GET /oauth/authorize?client_secret={_S}&grant_type=client_credentials", "api_secret"),
    ],
)
def test_assignment_is_redacted_after_any_prefix(message: str, kind: str) -> None:
    result = redact_secrets(message)
    assert f"[REDACTED:{kind}]" in result.text
    assert_no_leak(result, _S)


@pytest.mark.parametrize(
    "message",
    [
        "My config: client_secret=${GRID_CLIENT_SECRET}",
        "config: client_secret=your-client-secret",
        "Docs: https://docs.lightspark.com/api?client_secret={client_secret}&x=1",
        "Config: environment=sandbox, region=us-east-1",
        "use soroban_sdk::token::Client as TokenClient;",
        "if token == expected_token {",
    ],
)
def test_prefixed_placeholders_and_code_stay_untouched(message: str) -> None:
    assert redact_secrets(message).text == message


def test_basic_auth_pair_wins_over_a_vendor_pattern_spanning_the_colon() -> None:
    # A uuid ending in digits plus a 35+ char secret also reads as a Telegram bot token.
    client_id = "019a2b3c-4d5e-7f60-8a9b-" + fake(12, string.digits)
    secret = "gs_sk_test_" + fake(32)
    for message in (
        f"curl -u {client_id}:{secret} https://api.lightspark.com/grid/2025-10-13/quotes",
        f'curl --user "{client_id}:{secret}" https://api.lightspark.com/grid/2025-10-13/quotes',
    ):
        result = redact_secrets(message)
        assert "[REDACTED:client_id]:[REDACTED:api_secret]" in result.text
        assert sorted(kinds(result)) == ["api_secret", "client_id"]
        assert_no_leak(result, client_id, secret)
    bot_token = fake(9, string.digits) + ":" + fake(35)
    assert kinds(redact_secrets(f"our bot token is {bot_token}")) == ["telegram_token"]


@pytest.mark.parametrize(
    "template",
    [
        "const auth = Buffer.from('{pair}').toString('base64');",
        'headers = {{"Authorization": "Basic " + btoa("{pair}")}}',
        'token = base64.b64encode(b"{pair}").decode()',
        "echo -n '{pair}' | base64",
    ],
)
def test_a_quoted_id_secret_pair_built_into_basic_auth(template: str) -> None:
    # grid_holdout_q (read after it was measured): a Grid client id and secret pasted inside
    # the code that builds the Basic header, neither after "-u" nor after "Basic".
    # A digit and a letter in each half, whatever the generator draws.
    client_id = fake(24, string.ascii_uppercase + string.digits) + "7Q"
    secret = fake(41) + "9z"
    result = redact_secrets(template.format(pair=f"{client_id}:{secret}"))
    assert sorted(kinds(result)) == ["api_secret", "client_id"]
    assert_no_leak(result, client_id, secret)


def test_quoted_object_ids_and_timestamps_are_not_pairs() -> None:
    message = (
        '{"cardholderId": "Customer:0199f1c3-6a2e-7d48-b0f5-7e2c91a4d603", '
        '"createdAt": "2026-02-01T00:00:00Z", "digest": "sha256:0123456789abcdef0123", '
        '"sourceId": "ExternalAccount:0196a1c2-0a9b-7f55-8e21-c4d09b7e1a3f"}'
    )
    assert redact_secrets(message).redactions == []


# --- private keys -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["RSA", "EC", "OPENSSH", ""])
def test_multiline_pem_block_is_replaced_whole(kind: str) -> None:
    pem = fake_pem(kind)
    message = f"Our webhook verifier uses this key:\n{pem}\nand verification still fails."
    result = redact_secrets(message)
    assert result.text == (
        "Our webhook verifier uses this key:\n[REDACTED:private_key]\nand verification still fails."
    )
    assert result.production_credential
    for line in pem.splitlines()[1:-1]:
        assert line not in result.text
    assert_no_leak(result, pem)


def test_truncated_pem_stops_at_prose() -> None:
    body = [fake(64, _ALNUM + "+/") for _ in range(3)]
    message = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(body) + "\n\nwhy does signing fail?"
    result = redact_secrets(message)
    assert result.text == "[REDACTED:private_key]\n\nwhy does signing fail?"


def test_json_escaped_pem_on_one_line() -> None:
    pem = fake_pem("EC").replace("\n", "\\n")
    result = redact_secrets(f'{{"privateKey": "{pem}", "keyId": "k1"}}')
    assert result.text == '{"privateKey": "[REDACTED:private_key]", "keyId": "k1"}'


def test_public_keys_are_not_private() -> None:
    message = (
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"
    )
    assert redact_secrets(message).redactions == []


# --- card numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "card", ["4242 4242 4242 4242", "4111-1111-1111-1111", "5555555555554444", "3782 822463 10005"]
)
def test_luhn_valid_card_numbers_are_redacted(card: str) -> None:
    result = redact_secrets(f"The card {card} was declined on POST /cards.")
    assert result.text == "The card [REDACTED:card_number] was declined on POST /cards."
    assert not result.production_credential


@pytest.mark.parametrize(
    "number",
    [
        "4242 4242 4242 4241",  # Luhn fails
        "4111111111111112",  # Luhn fails
        "1739462400000",  # epoch millis
        "+55 11 91234-5678",  # phone
        "2025-10-13 12:00:00",  # timestamp
        "order 100023456789012",  # order id, not a card prefix
    ],
)
def test_non_cards_are_left_alone(number: str) -> None:
    assert redact_secrets(f"ref {number} failed").redactions == []


# --- recovery phrases ---------------------------------------------------------------------


@pytest.mark.parametrize("strength", [128, 256])
def test_bip39_recovery_phrases(strength: int) -> None:
    phrase = Mnemonic("english").to_mnemonic(_RNG.randbytes(strength // 8))
    result = redact_secrets(f"Customer sent their seed by mistake: {phrase}\nWhat should we do?")
    assert result.text == (
        "Customer sent their seed by mistake: [REDACTED:recovery_phrase]\nWhat should we do?"
    )
    assert result.recovery_phrase
    assert result.production_credential
    assert_no_leak(result, phrase)


def test_numbered_phrase_list() -> None:
    words = Mnemonic("english").to_mnemonic(bytes(range(16))).split()
    listing = "\n".join(f"{i}. {w}" for i, w in enumerate(words, 1))
    result = redact_secrets(f"backup words:\n{listing}")
    assert result.recovery_phrase
    assert all(w not in result.text.split() for w in words)


def test_eleven_words_are_not_a_phrase() -> None:
    words = " ".join(Mnemonic("english").to_mnemonic(bytes(16)).split()[:11])
    assert redact_secrets(words).redactions == []


def test_ordinary_support_prose_has_no_recovery_phrase(shared_data: Path) -> None:
    rows = []
    for name in ("banking77/train.csv", "clinc150/train.csv"):
        with (shared_data / "intent" / name).open(newline="") as fh:
            rows += [row[0] for row in csv.reader(fh)][1::3]
    assert len(rows) > 8000
    flagged = [row for row in rows if redact_secrets(row).redactions]
    assert flagged == []


# --- benign developer text ----------------------------------------------------------------


def test_benign_developer_paste_is_untouched() -> None:
    message = """Hi! POST https://api.lightspark.com/grid/2025-10-13/transfer-out returned HTTP 409.
Request-Id: req_01J9ZK3W6V8Q2M4N5P7R
Idempotency-Key: 7f1c2a9e-3b4d-4c5e-8f60-1a2b3c4d5e6f
{"id": "Transaction:019542f5-b3e7-1d02-0000-000000000100", "status": "PENDING",
 "createdAt": "2025-10-13T12:34:56.789Z", "amount": {"value": 150000, "currency": "USD"},
 "quoteId": "Quote:019542f5-b3e7-1d02-0000-000000000006", "code": "TRANSACTION_NOT_CANCELLABLE"}
Docs: https://docs.lightspark.com/platform-overview/core-concepts/currencies-and-rails
Grid-Wallet-Signature: sandbox-valid-signature
tx hash 0x8f3e9a1b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7
"""
    result = redact_secrets(message)
    assert result.redactions == []
    assert result.text == message
    assert not result.production_credential


def test_random_identifiers_next_to_id_like_keys_are_kept() -> None:
    idem, nonce = fake(32), fake(40, _ALNUM + "+/")
    message = json.dumps({"idempotencyKey": idem, "nonce": nonce, "externalId": fake(24)})
    assert redact_secrets(message).text == message


def test_contract_shape_and_production_rule() -> None:
    prod = redact_secrets(f"production is broken, client_secret={CLIENT_SECRET}")
    assert prod.production_credential
    assert prod.model_dump(include={"redactions"}) == {
        "redactions": [{"kind": "api_secret", "placeholder": "[REDACTED:api_secret]"}]
    }
    sandbox = redact_secrets(
        f"curl -u {CLIENT_ID}:{CLIENT_SECRET} https://api.lightspark.com/grid/2025-10-13/sandbox/send"
    )
    assert sandbox.redactions
    assert not sandbox.production_credential
    unknown_env = redact_secrets(f"client_secret={CLIENT_SECRET}")
    assert not unknown_env.production_credential


def test_a_typed_token_id_is_an_identifier_not_a_credential() -> None:
    # Grid names an API token `Token:<uuid>` (GET/DELETE /tokens/{tokenId}); its secret is
    # `clientSecret`.  Pasting the id exposes nothing, and saying it did is a false reason.
    for message in (
        'PATCH /tokens/Token:019ff945-2e14-78ed-8276-65d0acbd35a5 {"permissions":["VIEW"]}',
        'auth=(token["id"], token["clientSecret"]), i.e. username '
        '"Token:019f9c82-e9e8-755a-a7b8-00d0b8ad6859"',
    ):
        result = redact_secrets(message)
        assert result.redactions == []
        assert result.text == message
    # The same uuid written as a token's value, or under a type that names a secret, is one.
    for message in (
        "token: 019f9c82-e9e8-755a-a7b8-00d0b8ad6859",
        "ApiKey:019f9c82-e9e8-755a-a7b8-00d0b8ad6859",
        "AccessToken:019f9c82-e9e8-755a-a7b8-00d0b8ad6859",
        "refresh_token=RefreshToken:019f9c82-e9e8-755a-a7b8-00d0b8ad6859",
    ):
        assert_no_leak(redact_secrets(message), "019f9c82-e9e8-755a-a7b8-00d0b8ad6859")
