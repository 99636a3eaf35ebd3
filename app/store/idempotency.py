"""Idempotency keys with Stripe's semantics, for the API's mutating routes.

Usage by a route (``scope`` = route + principal, so keys never collide across tokens)::

    with sessions.begin() as s:
        outcome = idempotency.begin(s, scope, key, idempotency.fingerprint(method, path, body))
    if isinstance(outcome, idempotency.Replay):
        return the stored status/body byte for byte
    try:
        run the action in its own transaction and render the response
    except an unexpected error:
        with sessions.begin() as s: idempotency.abandon(s, scope, key)  # let a retry run it
        raise
    with sessions.begin() as s:
        idempotency.finish(s, scope, key, status, body)

- Same key, same request, already finished → ``Replay`` of the first response (errors
  such as a 409 included: a retry must see what the first attempt saw).
- Same key, different request → ``IdempotencyMismatch`` (422).
- Same key while the first request is still running → ``IdempotencyInFlight`` (409).
  An in-flight key is leased to one attempt (``holder``) until ``lease_until``
  (TRIAGE_IDEMPOTENCY_LEASE_SECONDS, 30 s); after that it belonged to a process that
  died mid-request (it never reached finish or abandon) and a retry takes it over.
  ``finish`` and ``abandon`` only act for the current holder, so an attempt that was
  merely slow, not dead, cannot store its response (nor commit its action, which shares
  the transaction) once it lost the key.
- Keys live for ``reuse_after`` (24 h, as Stripe): after that the same key starts a new
  request.  Expired rows are reused in place, so no sweeper is needed for correctness.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.store.columns import utcnow
from app.store.errors import InvalidInputError, InvalidStateError, StoreError
from app.store.ids import new_id
from app.store.models import IdempotencyRecord

REUSE_AFTER = timedelta(hours=24)
DEFAULT_LEASE = timedelta(seconds=30)
MAX_KEY_LENGTH = 255


class IdempotencyMismatch(StoreError):
    """The key was already used for a different request (422)."""


class IdempotencyInFlight(StoreError):
    """The first request with this key has not finished yet (409); retry later."""


@dataclass(frozen=True)
class Replay:
    status: int
    body: bytes
    content_type: str | None


@dataclass(frozen=True)
class Started:
    record_id: str


def fingerprint(*parts: str | bytes) -> str:
    """sha256 over the parts (e.g. method, path, raw body), length-prefixed to avoid
    ambiguity between ("ab", "c") and ("a", "bc")."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def _read(session: Session, scope: str, key: str) -> IdempotencyRecord | None:
    stmt = (
        select(IdempotencyRecord)
        .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).one_or_none()


@dataclass(frozen=True)
class _Lease:
    holder: str | None
    until: datetime


def _insert(
    session: Session, scope: str, key: str, request_hash: str, now: datetime, lease: _Lease
) -> str | None:
    """Insert an in-flight record unless the key exists; a unique-constraint race is a no-op
    instead of an error, so the caller's transaction stays usable without a savepoint."""
    values: dict[str, Any] = {
        "id": new_id("idk"),
        "scope": scope,
        "key": key,
        "request_hash": request_hash,
        "state": "in_flight",
        "created_at": now,
        "holder": lease.holder,
        "lease_until": lease.until,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(IdempotencyRecord)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["scope", "key"])
        .returning(IdempotencyRecord.id)
    )
    inserted: str | None = session.execute(stmt).scalar_one_or_none()
    return inserted


def _take_over(
    session: Session, record: IdempotencyRecord, request_hash: str, now: datetime, lease: _Lease
) -> bool:
    """Restart an expired or abandoned record, unless another request just did."""
    stmt = (
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.id == record.id,
            IdempotencyRecord.created_at == record.created_at,
            IdempotencyRecord.state == record.state,
        )
        .values(
            request_hash=request_hash,
            state="in_flight",
            response_status=None,
            response_body=None,
            response_content_type=None,
            created_at=now,
            completed_at=None,
            holder=lease.holder,
            lease_until=lease.until,
        )
        .returning(IdempotencyRecord.id)
    )
    return session.execute(stmt).first() is not None


def _lease_over(record: IdempotencyRecord, now: datetime, lease: timedelta) -> bool:
    """Over when the holder's lease ended, or when the claim is older than the lease this
    caller would grant (rows written before leases existed have only the claim time)."""
    if record.lease_until is not None and record.lease_until <= now:
        return True
    return record.created_at + lease <= now


def begin(
    session: Session,
    scope: str,
    key: str,
    request_hash: str,
    *,
    now: datetime | None = None,
    reuse_after: timedelta = REUSE_AFTER,
    lease: timedelta = DEFAULT_LEASE,
    holder: str | None = None,
) -> Replay | Started:
    """Claim ``key`` for this request, or say how the earlier use of it ended.

    ``holder`` names this attempt (pass the same to ``finish``/``abandon``); the claim
    is leased to it for ``lease``."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
    now = now or utcnow()
    mine = _Lease(holder, now + lease)
    # A few rounds at most: each miss means another request changed the row in between.
    for _ in range(3):
        record = _read(session, scope, key)
        if record is None:
            inserted = _insert(session, scope, key, request_hash, now, mine)
            if inserted is not None:
                return Started(inserted)
            continue
        if record.created_at <= now - reuse_after:
            if _take_over(session, record, request_hash, now, mine):
                return Started(record.id)
            continue
        if record.request_hash != request_hash:
            raise IdempotencyMismatch(
                f"Idempotency-Key {key!r} was already used with a different request"
            )
        if record.state == "done":
            if record.response_status is None or record.response_body is None:
                raise InvalidStateError(f"Idempotency-Key {key!r} is done but has no response")
            return Replay(
                record.response_status, record.response_body, record.response_content_type
            )
        if _lease_over(record, now, lease):
            if _take_over(session, record, request_hash, now, mine):
                return Started(record.id)
            continue
        raise IdempotencyInFlight(
            f"a request with Idempotency-Key {key!r} is still being processed; retry shortly"
        )
    raise IdempotencyInFlight(
        f"a request with Idempotency-Key {key!r} is being processed concurrently; retry shortly"
    )


def finish(
    session: Session,
    scope: str,
    key: str,
    status: int,
    body: bytes,
    *,
    content_type: str | None = None,
    now: datetime | None = None,
    holder: str | None = None,
) -> None:
    """Store the response of the request that ``begin`` started, for later replays.

    With ``holder``, only while that attempt still holds the key; otherwise (its lease
    ran out and a retry took the key over) ``IdempotencyInFlight`` is raised and the
    caller's transaction, the action included, must roll back."""
    where = [
        IdempotencyRecord.scope == scope,
        IdempotencyRecord.key == key,
        IdempotencyRecord.state == "in_flight",
    ]
    if holder is not None:
        where.append(IdempotencyRecord.holder == holder)
    stmt = (
        update(IdempotencyRecord)
        .where(*where)
        .values(
            state="done",
            response_status=status,
            response_body=bytes(body),
            response_content_type=content_type,
            completed_at=now or utcnow(),
            lease_until=None,
        )
        .returning(IdempotencyRecord.id)
    )
    if session.execute(stmt).first() is None:
        if holder is not None:
            raise IdempotencyInFlight(
                f"the request with Idempotency-Key {key!r} outlived its lease and a retry "
                "took it over; nothing was changed by this attempt"
            )
        raise InvalidStateError(f"Idempotency-Key {key!r} is not in flight in scope {scope!r}")


def abandon(session: Session, scope: str, key: str, *, holder: str | None = None) -> None:
    """Forget an in-flight key whose request failed unexpectedly, so a retry can run it
    (with ``holder``: only if this attempt still holds it)."""
    where = [
        IdempotencyRecord.scope == scope,
        IdempotencyRecord.key == key,
        IdempotencyRecord.state == "in_flight",
    ]
    if holder is not None:
        where.append(IdempotencyRecord.holder == holder)
    session.execute(delete(IdempotencyRecord).where(*where))
