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
from sqlalchemy.exc import IntegrityError
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


# The name is half of the audit actor and shows in the console: short, one printable
# line, no markup, never posing as an internal actor ("system:drafting", …).
MAX_NAME_CHARS = 100
_MARKUP = frozenset("<>&\"'`")
RESERVED_NAME_PREFIXES = ("system:",)


class TokenNameError(InvalidInputError):
    """The token name is malformed or already taken (422)."""


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    token_id: str

    @property
    def actor(self) -> str:
        """Who did it, in the audit trail and on decisions: the token id (unique, never
        reused) with its name for people to read."""
        return f"{self.token_id}:{self.name}"


def check_name(name: str) -> str:
    """The name if it is fit to identify a token; raises TokenNameError otherwise."""
    if not name or len(name) > MAX_NAME_CHARS:
        raise TokenNameError(f"a token name is 1 to {MAX_NAME_CHARS} characters")
    if name != name.strip():
        raise TokenNameError("a token name cannot start or end with whitespace")
    if not name.isprintable():
        raise TokenNameError("a token name must be printable, on one line")
    if _MARKUP.intersection(name):
        raise TokenNameError("a token name cannot contain markup characters < > & \" ' `")
    if name.casefold().startswith(RESERVED_NAME_PREFIXES):
        raise TokenNameError("token names starting with 'system:' are reserved")
    return name


def name_taken(session: Session, name: str) -> bool:
    return session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None


def unused_name(session: Session, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``… whichever is free (the CLI's default names)."""
    candidate, n = base, 1
    while name_taken(session, candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


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
    check_name(name)
    if name_taken(session, name):
        raise TokenNameError(f"a token named {name!r} already exists; names are unique")
    now = now or utcnow()
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        role=role,
        token_hash=hash_token(plaintext),
        prefix=plaintext[:DISPLAY_PREFIX_CHARS],
        created_at=now,
    )
    try:
        # In a savepoint: a concurrent creation of the same name fails this insert only,
        # not the caller's transaction.
        with session.begin_nested():
            session.add(token)
            session.flush()
    except IntegrityError as exc:
        raise TokenNameError(f"a token named {name!r} already exists; names are unique") from exc
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
