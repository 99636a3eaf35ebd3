"""Run a mutating request at most once per Idempotency-Key (Stripe semantics).

The key is claimed in its own short transaction, so a concurrent request with the same
key sees it in flight (409) instead of racing.  The action then runs in one
transaction together with storing its rendered response: a crash either loses both
(a retry runs the action) or keeps both (a retry replays the response), so an approval
can never be committed while its key still looks unused.  Domain errors raised by the
action (404, 409) are stored too, in a second transaction after the rollback: a retry
must see what the first attempt saw.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from sqlalchemy.orm import Session, sessionmaker

from app.services.field_screening import storable_key
from app.store import idempotency
from app.store.errors import StoreError

log = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = idempotency.DEFAULT_LEASE.total_seconds()


@dataclass(frozen=True)
class Rendered:
    status: int
    body: bytes
    content_type: str


@dataclass(frozen=True)
class Outcome:
    response: Rendered
    # True when this is a stored response replayed for a retry: nothing ran now.
    replayed: bool


Action = Callable[[Session], Rendered]
RenderError = Callable[[StoreError], Rendered]


class _ActionFailed(Exception):
    """A domain error from the action itself (not from the bookkeeping around it)."""

    def __init__(self, error: StoreError) -> None:
        super().__init__(str(error))
        self.error = error


def scope_for(route: str, token_id: str) -> str:
    """Route template + principal: the same key on two routes or two tokens never collides."""
    return f"{route}|{token_id}"


@dataclass(frozen=True)
class IdempotencyRequest:
    """What a route knows about one keyed request."""

    scope: str
    key: str
    request_hash: str
    # How long a claim stays this attempt's if its process dies (TRIAGE_IDEMPOTENCY_LEASE_SECONDS).
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    # This attempt, as the key's holder: a retry that took over after the lease makes
    # this attempt's finish fail, so its action rolls back instead of committing twice.
    holder: str = field(default_factory=lambda: uuid.uuid4().hex)

    @cached_property
    def stored_key(self) -> str:
        """The key as stored and echoed in errors: hashed if a secret was pasted into it."""
        return storable_key(self.key)


def claim(factory: sessionmaker[Session], request: IdempotencyRequest) -> Rendered | None:
    """Claim the key (None: go ahead) or return the stored response to replay.

    Raises ``IdempotencyMismatch`` (same key, other request) and ``IdempotencyInFlight``
    (same key, still running); nothing is stored for those.
    """
    with factory.begin() as session:
        outcome = idempotency.begin(
            session,
            request.scope,
            request.stored_key,
            request.request_hash,
            lease=timedelta(seconds=request.lease_seconds),
            holder=request.holder,
        )
    if isinstance(outcome, idempotency.Replay):
        return Rendered(outcome.status, outcome.body, outcome.content_type or "application/json")
    return None


def complete(
    factory: sessionmaker[Session],
    request: IdempotencyRequest,
    action: Action,
    render_error: RenderError,
) -> Rendered:
    """Run ``action`` for a claimed key and store its response (or its domain error)."""
    try:
        with factory.begin() as session:
            try:
                rendered = action(session)
            except StoreError as exc:
                raise _ActionFailed(exc) from exc
            _finish(session, request, rendered)
        return rendered
    except _ActionFailed as failed:
        rendered = render_error(failed.error)
        try:
            with factory.begin() as session:
                _finish(session, request, rendered)
        except BaseException:
            release(factory, request)
            raise
        return rendered
    except BaseException:
        release(factory, request)
        raise


def run_once(
    factory: sessionmaker[Session],
    request: IdempotencyRequest,
    action: Action,
    render_error: RenderError,
) -> Outcome:
    """``claim`` then ``complete``: the whole keyed request for synchronous actions."""
    replay = claim(factory, request)
    if replay is not None:
        return Outcome(replay, replayed=True)
    return Outcome(complete(factory, request, action, render_error), replayed=False)


def run_action(factory: sessionmaker[Session], action: Action) -> Rendered:
    """The same action without a key: domain errors propagate to the error handlers."""
    with factory.begin() as session:
        return action(session)


def _finish(session: Session, request: IdempotencyRequest, rendered: Rendered) -> None:
    idempotency.finish(
        session,
        request.scope,
        request.stored_key,
        rendered.status,
        rendered.body,
        content_type=rendered.content_type,
        holder=request.holder,
    )


def release(factory: sessionmaker[Session], request: IdempotencyRequest) -> None:
    """Release the key after an unexpected failure so a retry runs the action again."""
    try:
        with factory.begin() as session:
            idempotency.abandon(session, request.scope, request.stored_key, holder=request.holder)
    except Exception:
        # The key then stays in flight until its lease ends, after which a retry takes
        # it over; nothing was committed by the action, so that is still safe.
        log.warning("could not release an idempotency key after a failure", exc_info=True)
