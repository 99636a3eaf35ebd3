"""API tokens: issued once in plaintext, stored only as a sha256 hash.

Why sha256 and not bcrypt/argon2: those slow hashes protect low-entropy passwords from
offline guessing.  These secrets are 256 random bits (``secrets.token_urlsafe(32)``), so
a leaked hash cannot be brute-forced whatever the hash speed, and a fast hash lets every
request authenticate with one indexed lookup instead of ~100 ms of deliberate CPU work.

Lookup by hash is also what keeps the check timing-safe: the database compares hashes,
and a timing difference on a hash prefix tells an attacker nothing about the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store import audit
from app.store.columns import utcnow
from app.store.errors import InvalidInputError, NotFoundError
from app.store.models import ROLES, ApiToken, Role

TOKEN_PREFIX = "trg_"
# "trg_" plus 4 characters of the secret: enough to tell tokens apart in a list.
DISPLAY_PREFIX_CHARS = 8
# token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
MAX_TOKEN_CHARS = 128


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    token_id: str


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create_token(
    session: Session,
    role: Role,
    name: str,
    *,
    actor: str = "system",
    now: datetime | None = None,
) -> tuple[str, ApiToken]:
    """Issue a token; the plaintext is returned here once and never stored."""
    if role not in ROLES:
        raise InvalidInputError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if not name.strip():
        raise InvalidInputError("a token needs a name")
    now = now or utcnow()
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        role=role,
        token_hash=hash_token(plaintext),
        prefix=plaintext[:DISPLAY_PREFIX_CHARS],
        created_at=now,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        ticket_id=None,
        actor=actor,
        action="token_created",
        detail={"token_id": token.id, "name": name, "role": role},
        now=now,
    )
    session.flush()
    return plaintext, token


def authenticate(session: Session, plaintext: str) -> Principal | None:
    """The principal for a bearer token, or None if unknown or revoked."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > MAX_TOKEN_CHARS:
        return None
    digest = hash_token(plaintext)
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
    ).one_or_none()
    # The lookup already matched; compare_digest keeps this line timing-safe should the
    # lookup ever become a prefix search.
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    return Principal(name=token.name, role=token.role, token_id=token.id)


def revoke(
    session: Session, token_id: str, *, actor: str = "system", now: datetime | None = None
) -> ApiToken:
    """Revoke a token (idempotent: revoking twice keeps the first revocation time)."""
    token = session.get(ApiToken, token_id, populate_existing=True)
    if token is None:
        raise NotFoundError(f"token {token_id} not found")
    if token.revoked_at is None:
        now = now or utcnow()
        token.revoked_at = now
        audit.record(
            session,
            ticket_id=None,
            actor=actor,
            action="token_revoked",
            detail={"token_id": token.id, "name": token.name},
            now=now,
        )
        session.flush()
    return token


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)))
