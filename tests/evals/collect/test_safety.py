"""Per-item safety checks: removed secrets are recovered and must not reappear."""

from __future__ import annotations

from evals.collect.safety import check_item, redaction_leaks, removed_secrets


def test_removed_secrets_are_recovered_from_the_redacted_text() -> None:
    original = 'curl -u "abc123id:s3cr3tV4lu3xyz" https://api.example.com and key=s3cr3tV4lu3xyz'
    redacted = (
        'curl -u "[REDACTED:client_id]:[REDACTED:api_secret]" https://api.example.com '
        "and key=[REDACTED:api_secret]"
    )
    assert removed_secrets(original, redacted) == ["abc123id", "s3cr3tV4lu3xyz", "s3cr3tV4lu3xyz"]
    assert removed_secrets("nothing here", "nothing here") == []


def test_a_secret_echoed_in_the_draft_is_a_leak() -> None:
    original = "my key is sk_live_51HxT9aQ2rZk8LmN3pV7wY0cB4dF6gJ1 help"
    redacted = "my key is [REDACTED:stripe_key] help"
    clean = check_item(original, redacted, ["Rotate your key."], redactions=1)
    assert clean.leaked == 0
    leaked = check_item(
        original, redacted, ["You sent sk_live_51HxT9aQ2rZk8LmN3pV7wY0cB4dF6gJ1"], 1
    )
    assert leaked.leaked == 1


def test_redaction_leaks_counts_every_occurrence() -> None:
    texts = ["key sk_live_123 and sk_live_123 again", "mail bob@example.com", "clean"]

    assert redaction_leaks(texts, ["sk_live_123", "bob@example.com", ""]) == 3
    assert redaction_leaks(texts, ["SK_LIVE_123"]) == 0
    assert redaction_leaks([], ["x"]) == 0
