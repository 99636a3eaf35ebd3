"""Redaction on the labelled corpus, and each kind issue 14 reported as missed.

Corpus: tests/fixtures/redaction (generate.py says how it was made).  Recall must be 100%
(no secret substring survives, in the text or anywhere in the result) and at most 1% of
the clean rows may lose anything.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from mnemonic import Mnemonic

from app.triage.screen.secrets import redact_secrets
from tests.fixtures.redaction.corpus import clean_rows, secret_rows

UUID = "019a2b3c-4d5e-7f60-8a9b-1c2d3e4f5a6b"
SECRET = "9Qz7xL2mT8vB1nK4cW6yR3pH5jD0sAfE"
AWS = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Lm2Tk9d"


def test_corpus_has_the_promised_size(grid_root: Path) -> None:
    secrets = secret_rows()
    assert len(secrets) >= 150
    assert len({r.kind for r in secrets}) >= 30
    assert {r.lang for r in secrets} >= {"en", "es", "pt"}
    assert {"env", "json", "curl", "log", "stack_trace", "config", "prose"} <= {
        r.form for r in secrets
    }
    assert len(clean_rows(grid_root)) >= 300


def test_every_fake_secret_disappears() -> None:
    survived = []
    for row in secret_rows():
        result = redact_secrets(row.text)
        dumped = result.model_dump_json()
        assert result.redacted, row.id
        survived += [(row.id, s) for s in row.secrets if s in result.text or s in dumped]
    assert survived == []


def test_clean_messages_and_docs_are_left_alone(grid_root: Path) -> None:
    rows = clean_rows(grid_root)
    flagged = [row.id for row in rows if redact_secrets(row.text).redacted]
    assert len(flagged) <= 0.01 * len(rows), flagged


# --- the kinds issue 14 listed as missed, one by one ---------------------------------------


@pytest.mark.parametrize(
    ("message", "secrets"),
    [
        (f"AWS_SECRET_ACCESS_KEY={AWS}", [AWS]),
        (f"[default]\naws_secret_access_key = {AWS}\nregion = us-east-1", [AWS]),
        (f"client id {UUID}, client secret {SECRET}", [UUID, SECRET]),
        (f"my client secret is {SECRET}.", [SECRET]),
        (f"trying {UUID}:{SECRET} against sandbox", [UUID, SECRET]),
        (f"mi clave secreta es {SECRET}", [SECRET]),
        ("my password is Hunter2024! since Monday", ["Hunter2024"]),
        ("mi contraseña es Perro_2024 pero no entra", ["Perro_2024"]),
        ("minha senha é Gato#7788, não funciona", ["Gato#7788"]),
        (f"Authorization: Bearer {UUID}:{SECRET}", [UUID, SECRET]),
        ("sk_live_\u200b51HxAbCdEfGh123456IjKl fails", ["51HxAbCdEfGh123456IjKl"]),
        ("sk_liv\u0435_51HxAbCdEfGh123456IjKl fails", ["51HxAbCdEfGh123456IjKl"]),
        ("key: sk_live_51HxAbCdEf\nGh123456IjKlMn", ["51HxAbCdEf", "Gh123456IjKlMn"]),
    ],
)
def test_missed_kinds_are_caught(message: str, secrets: list[str]) -> None:
    result = redact_secrets(message)
    assert result.redacted
    for secret in secrets:
        assert secret not in result.text


@pytest.mark.parametrize(
    "intro",
    ["the 12 words are", "seed words:", "La frase de recuperación es", "frase de recuperação:"],
)
def test_announced_recovery_phrase_not_on_the_bip39_list(intro: str) -> None:
    words = "orange tigre velvet planeta copper violin marble sunset harbor pencil rocket meadow"
    result = redact_secrets(f"{intro} {words}. Can you help?")
    assert result.recovery_phrase
    assert result.text.endswith("[REDACTED:recovery_phrase]. Can you help?")
    for word in words.split():
        assert word not in result.text


def test_base64_of_a_config_line_is_redacted_whole() -> None:
    encoded = base64.b64encode(f"client_secret={SECRET}".encode()).decode()
    result = redact_secrets(f"our config (base64): {encoded}")
    assert result.text == "our config (base64): [REDACTED:api_secret]"


def test_obfuscated_key_leaves_the_rest_of_the_original_text_intact() -> None:
    message = "Olá — a chave sk_liv\u0435_51HxAbCdEfGh123456IjKl falha desde ontem"
    result = redact_secrets(message)
    assert result.text == "Olá — a chave [REDACTED:stripe_key] falha desde ontem"


def test_a_repeated_word_is_not_a_recovery_phrase() -> None:
    message = "word " * 4000
    result = redact_secrets(message)
    assert not result.redacted
    assert result.text == message
    assert not result.recovery_phrase


def test_a_phrase_pasted_twice_is_still_a_phrase_but_a_chant_is_not() -> None:
    phrase = Mnemonic("english").to_mnemonic(bytes(range(16)))
    assert redact_secrets(f"seed: {phrase} {phrase}").text == "seed: [REDACTED:recovery_phrase]"
    assert not redact_secrets("abandon ability able " * 10).redacted


@pytest.mark.parametrize(
    "message",
    [
        "My password is not working after the reset.",
        "mi contraseña es incorrecta según el panel",
        "What are the 12 words for? Where do I write them down safely?",
        "Our recovery phrase is stored offline, as the docs recommend, in a safe place.",
        "Пароль не работает",  # Cyrillic words are words, not homoglyph tricks
        f"Transaction:{UUID} is still pending, request id req_01J9ZK3W6V8Q2M4N5P7R",
        "the client secret is rotated every 90 days, right?",
        "let token_client = token::TokenClient::new(&env, &token);",
        "      NBXPLORER_BTCRPCPASSWORD: 'rpc-password'",
    ],
)
def test_sentences_about_secrets_are_not_secrets(message: str) -> None:
    result = redact_secrets(message)
    assert not result.redacted
    assert result.text == message


def test_redacting_redacted_text_changes_nothing() -> None:
    # A stored turn (already redacted) is screened again as a conversation's history: its
    # placeholders must survive intact and no credential may be reported a second time.
    for row in secret_rows():
        once = redact_secrets(row.text)
        twice = redact_secrets(once.text)
        assert twice.text == once.text, row.id
        assert not twice.redactions, row.id
        assert not twice.production_credential, row.id


def test_a_secret_glued_to_a_placeholder_is_still_redacted() -> None:
    text = f'curl -u "[REDACTED:client_id]:sk_live_{SECRET}" https://api.example.com'
    result = redact_secrets(text)
    assert SECRET not in result.text
    assert result.text.startswith('curl -u "[REDACTED:client_id]:[REDACTED:')
