"""The service-layer screening of a ticket's side fields and of Idempotency-Keys."""

from __future__ import annotations

from app.services.field_screening import screen_fields, screen_text, storable_key

UUID = "019a2b3c-4d5e-7f60-8a9b-1c2d3e4f5a6b"
SECRET = "9Qz7xL2mT8vB1nK4cW6yR3pH5jD0sAfE"


def test_metadata_is_walked_and_keys_give_context() -> None:
    screened = screen_fields(
        "dev@example.com",
        {
            "password": "hunter2-x",
            "nested": [{"note": f"my client secret is {SECRET}"}, 3, None, True],
            f"{UUID}:{SECRET}": "x",
            "plain": "ord_123",
        },
        "thread-42",
    )
    assert screened.metadata == {
        "password": "[REDACTED:password]",
        "nested": [{"note": "my client secret is [REDACTED:api_secret]"}, 3, None, True],
        "[REDACTED:client_id]:[REDACTED:api_secret]": "x",
        "plain": "ord_123",
    }
    assert screened.reporter == "dev@example.com"
    assert screened.external_ref == "thread-42"
    assert {r.kind for r in screened.redactions} == {"password", "api_secret", "client_id"}


def test_metadata_deeper_than_the_walk_is_still_screened() -> None:
    deep: object = f"client_secret={SECRET}"
    for _ in range(80):
        deep = {"d": deep}
    screened = screen_fields(None, {"deep": deep}, None)
    assert SECRET not in repr(screened.metadata)
    assert screened.redactions


def test_free_text_and_keys() -> None:
    assert screen_text(None) is None
    assert screen_text(f"client secret {SECRET}") == "client secret [REDACTED:api_secret]"
    assert storable_key("retry-7f1c2a9e") == "retry-7f1c2a9e"
    hashed = storable_key(f"retry-{UUID}:{SECRET}")
    assert hashed.startswith("sha256:")
    assert SECRET not in hashed
    assert storable_key(f"other-{UUID}:{SECRET}") != hashed
