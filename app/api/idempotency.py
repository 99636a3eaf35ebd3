"""Idempotency-Key at the API edge: run a mutating request at most once per key.

Stripe's semantics, on the key records of ``app/store/idempotency.py``.  The key is
claimed in its own short transaction, so a concurrent request with the same key sees
it in flight (409) instead of racing; a finished key replays the first response byte
for byte; the same key with another request is a 422.

The route hands the service a ``KeyedCall`` as its ``Transaction``: the service's work
runs in one transaction together with storing its rendered response, so a crash either
loses both (a retry runs the work) or keeps both (a retry replays the response), and an
approval can never be committed while its key still looks unused.  A domain error
raised by the work (404, 409) is stored too, in a second transaction after the
rollback: a retry must see what the first attempt saw.  Services know none of this.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Generic, TypeVar

import anyio
import anyio.to_thread
from fastapi import Request
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import Response

from app.api.deps import Services
from app.api.problems import PROBLEM_JSON, classify_store_error, problem_body
from app.services.field_screening import storable_key
from app.store import idempotency
from app.store.api_tokens import Principal
from app.store.errors import StoreError

log = logging.getLogger(__name__)

R = TypeVar("R")

JSON = "application/json"
DEFAULT_LEASE_SECONDS = idempotency.DEFAULT_LEASE.total_seconds()


@dataclass(frozen=True)
class Rendered:
    """A response as stored for replays: status, body bytes and content type."""

    status: int
    body: bytes
    content_type: str


def rendered_json(model: BaseModel, status: int = 200) -> Rendered:
    return Rendered(status, model.model_dump_json().encode(), JSON)


def rendered_problem(exc: StoreError, instance: str) -> Rendered:
    """The problem document for a domain error, as the error handler would write it."""
    status, slug, title = classify_store_error(exc)
    body = problem_body(status, str(exc), instance=instance, slug=slug, title=title)
    return Rendered(status, body, PROBLEM_JSON)


def respond(rendered: Rendered, *, replayed: bool = False) -> Response:
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return Response(
        rendered.body,
        status_code=rendered.status,
        media_type=rendered.content_type,
        headers=headers,
    )


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
    # this attempt's finish fail, so its work rolls back instead of committing twice.
    holder: str = field(default_factory=lambda: uuid.uuid4().hex)

    @cached_property
    def stored_key(self) -> str:
        """The key as stored and echoed in errors: hashed if a secret was pasted into it."""
        return storable_key(self.key)


class KeyedCall(Generic[R]):
    """One mutating request, with or without a key; a ``Transaction`` for one service call.

    ``render`` turns the service's result into the response, inside the transaction (so
    lazy attributes still load, and the bytes are stored with the work).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        idem: IdempotencyRequest | None,
        render: Callable[[R], Rendered],
        *,
        instance: str,
    ) -> None:
        self.sessions = sessions
        self.idem = idem
        self.render = render
        self.instance = instance
        self.response: Rendered | None = None
        # Once the work's transaction began, it releases the key itself on failure.
        self._entered = False

    # -- the Transaction the service runs its work in --------------------------------
    def __call__(self, work: Callable[[Session], R], /) -> R:
        if self._entered:
            raise RuntimeError("a keyed request runs one transaction")
        self._entered = True
        if self.idem is None:
            # Without a key, domain errors propagate to the error handlers.
            with self.sessions.begin() as session:
                result = work(session)
                self.response = self.render(result)
            return result
        return self._keyed(self.idem, work)

    def _keyed(self, idem: IdempotencyRequest, work: Callable[[Session], R]) -> R:
        failure: StoreError | None = None
        try:
            with self.sessions.begin() as session:
                try:
                    result = work(session)
                except StoreError as exc:
                    failure = exc
                    raise
                rendered = self.render(result)
                _finish(session, idem, rendered)
        except StoreError as exc:
            if exc is not failure:
                _release(self.sessions, idem)
                raise
            rendered = rendered_problem(exc, self.instance)
            try:
                with self.sessions.begin() as session:
                    _finish(session, idem, rendered)
            except BaseException:
                _release(self.sessions, idem)
                raise
            # Answered: the service sees its error (and skips its after-commit work).
            self.response = rendered
            raise
        except BaseException:
            _release(self.sessions, idem)
            raise
        self.response = rendered
        return result

    # -- the route's side -------------------------------------------------------------
    def claim(self) -> Rendered | None:
        """Claim the key (None: go ahead) or return the stored response to replay.

        Raises ``IdempotencyMismatch`` (same key, other request) and
        ``IdempotencyInFlight`` (same key, still running); nothing is stored for those.
        """
        if self.idem is None:
            return None
        with self.sessions.begin() as session:
            outcome = idempotency.begin(
                session,
                self.idem.scope,
                self.idem.stored_key,
                self.idem.request_hash,
                lease=timedelta(seconds=self.idem.lease_seconds),
                holder=self.idem.holder,
            )
        if isinstance(outcome, idempotency.Replay):
            content_type = outcome.content_type or JSON
            return Rendered(outcome.status, outcome.body, content_type)
        return None

    def release(self) -> None:
        """After a failure before the work's transaction: let a retry run the request."""
        if self.idem is not None and not self._entered:
            _release(self.sessions, self.idem)

    def run(self, call: Callable[[KeyedCall[R]], R]) -> Response:
        """Replay, or run ``call`` (a service call given this as its transaction)."""
        replay = self.claim()
        if replay is not None:
            return respond(replay, replayed=True)
        try:
            call(self)
        except StoreError:
            if self.response is None:
                self.release()
                raise
        except BaseException:
            self.release()
            raise
        return self._answer()

    async def run_async(self, call: Callable[[KeyedCall[R]], Awaitable[R]]) -> Response:
        """``run`` for an async service call; blocking store work goes to a thread."""
        replay = await anyio.to_thread.run_sync(self.claim)
        if replay is not None:
            return respond(replay, replayed=True)
        try:
            await call(self)
        except BaseException as exc:
            if not (isinstance(exc, StoreError) and self.response is not None):
                # Shielded: on a client disconnect (cancellation) the key must still be
                # released, or a retry would see it in flight until its lease ends.
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self.release)
                raise
        return self._answer()

    def _answer(self) -> Response:
        if self.response is None:
            raise RuntimeError("the service never ran its transaction")
        return respond(self.response)


def keyed_call(
    request: Request,
    principal: Principal,
    key: str | None,
    body: bytes,
    render: Callable[[R], Rendered],
) -> KeyedCall[R]:
    """Scope = route template + token; fingerprint = method, concrete path and raw body."""
    services: Services = request.app.state.services
    idem = None
    if key is not None:
        route = request.scope.get("route")
        template = getattr(route, "path", request.url.path)
        idem = IdempotencyRequest(
            scope=scope_for(f"{request.method} {template}", principal.token_id),
            key=key,
            request_hash=idempotency.fingerprint(request.method, request.url.path, body),
            lease_seconds=services.settings.idempotency_lease_seconds,
        )
    return KeyedCall(services.runtime.sessions, idem, render, instance=request.url.path)


def _finish(session: Session, idem: IdempotencyRequest, rendered: Rendered) -> None:
    idempotency.finish(
        session,
        idem.scope,
        idem.stored_key,
        rendered.status,
        rendered.body,
        content_type=rendered.content_type,
        holder=idem.holder,
    )


def _release(sessions: sessionmaker[Session], idem: IdempotencyRequest) -> None:
    """Release the key after an unexpected failure so a retry runs the request again."""
    try:
        with sessions.begin() as session:
            idempotency.abandon(session, idem.scope, idem.stored_key, holder=idem.holder)
    except Exception:
        # The key then stays in flight until its lease ends, after which a retry takes
        # it over; nothing was committed by the work, so that is still safe.
        log.warning("could not release an idempotency key after a failure", exc_info=True)
