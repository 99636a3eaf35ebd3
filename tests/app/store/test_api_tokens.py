from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from app.store import api_tokens
from app.store.api_tokens import Principal
from app.store.errors import InvalidInputError, NotFoundError
from app.store.models import AuditLog


def test_token_is_shown_once_and_stored_only_as_a_hash(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        plaintext, token = api_tokens.create_token(s, "agent", "alice laptop")
        token_id = token.id

    assert plaintext.startswith("trg_")
    assert len(plaintext) >= 4 + 43
    with sessions() as s:
        row = s.execute(text("SELECT * FROM api_tokens")).mappings().one()
        assert row["token_hash"] == hashlib.sha256(plaintext.encode()).hexdigest()
        assert row["prefix"] == plaintext[:8]
        secret = plaintext.removeprefix("trg_")
        assert not any(secret in str(value) for value in row.values())
        audit_rows = s.execute(text("SELECT * FROM audit_log")).mappings().all()
        assert not any(secret in str(value) for r in audit_rows for value in r.values())
        assert api_tokens.authenticate(s, plaintext) == Principal("alice laptop", "agent", token_id)


def test_unknown_malformed_and_revoked_tokens_do_not_authenticate(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        plaintext, token = api_tokens.create_token(s, "integration", "zendesk")
        other, _ = api_tokens.create_token(s, "admin", "ops")

    with sessions() as s:
        tampered = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
        assert api_tokens.authenticate(s, tampered) is None
        assert api_tokens.authenticate(s, plaintext.removeprefix("trg_")) is None
        assert api_tokens.authenticate(s, "trg_" + "x" * 500) is None
        assert api_tokens.authenticate(s, "") is None

    with sessions.begin() as s:
        revoked = api_tokens.revoke(s, token.id, actor="admin")
        first_revocation = revoked.revoked_at
    with sessions.begin() as s:
        assert api_tokens.revoke(s, token.id).revoked_at == first_revocation

    with sessions() as s:
        assert api_tokens.authenticate(s, plaintext) is None
        assert api_tokens.authenticate(s, other) is not None
        actions = s.scalars(select(AuditLog.action).order_by(AuditLog.created_at)).all()
        assert actions.count("token_revoked") == 1
        assert [t.name for t in api_tokens.list_tokens(s)] == ["zendesk", "ops"]


def test_revoke_unknown_and_invalid_roles(session: Session) -> None:
    with pytest.raises(NotFoundError, match="token tok_nope not found"):
        api_tokens.revoke(session, "tok_nope")
    with pytest.raises(InvalidInputError, match="unknown role 'root'"):
        api_tokens.create_token(session, "root", "x")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="whitespace"):
        api_tokens.create_token(session, "agent", " ")


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "1 to 100"),
        ("x" * 101, "1 to 100"),
        ("alice\nsystem:auto-send", "printable"),
        ("tab\there", "printable"),
        ("<script>alert(1)</script>", "markup"),
        ("bob & co", "markup"),
        ("system:drafting", "reserved"),
        ("SYSTEM:outbox", "reserved"),
        (" padded", "whitespace"),
    ],
)
def test_token_names_that_could_mislead_an_audit_reader_are_refused(
    session: Session, name: str, why: str
) -> None:
    with pytest.raises(api_tokens.TokenNameError, match=why):
        api_tokens.create_token(session, "agent", name)


def test_token_names_are_unique_and_the_actor_carries_the_token_id(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        plaintext, token = api_tokens.create_token(s, "agent", "alice")
    with sessions.begin() as s, pytest.raises(api_tokens.TokenNameError, match="already exists"):
        api_tokens.create_token(s, "agent", "alice")
    with sessions.begin() as s:
        assert api_tokens.unused_name(s, "alice") == "alice-2"
        assert api_tokens.unused_name(s, "bob") == "bob"
    with sessions() as s:
        principal = api_tokens.authenticate(s, plaintext)
    assert principal is not None
    assert principal.actor == f"{token.id}:alice"


def test_a_name_lost_to_a_race_keeps_the_callers_transaction_usable(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with sessions.begin() as s:
        api_tokens.create_token(s, "agent", "carol")
    # Slip past the friendly check, as a concurrent creation of the name would.
    monkeypatch.setattr(api_tokens, "name_taken", lambda session, name: False)
    with sessions.begin() as s:
        with pytest.raises(api_tokens.TokenNameError):
            api_tokens.create_token(s, "agent", "carol")
        api_tokens.create_token(s, "agent", "dave")
    with sessions() as s:
        assert [t.name for t in api_tokens.list_tokens(s)] == ["carol", "dave"]
