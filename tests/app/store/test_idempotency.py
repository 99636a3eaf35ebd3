from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.store import idempotency
from app.store.errors import InvalidInputError, InvalidStateError
from app.store.idempotency import IdempotencyInFlight, IdempotencyMismatch, Replay, Started

SCOPE = "POST /v1/drafts/{id}/approve|tok_agent"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
# Not valid UTF-8 and with trailing whitespace: a replay must still be byte-identical.
BODY = b'{"id": "drf_1", "status": "approved"}\n\xff\x00  '


def _begin(
    sessions: sessionmaker[Session], key: str, request_hash: str, now: datetime = T0
) -> Replay | Started:
    with sessions.begin() as s:
        return idempotency.begin(s, SCOPE, key, request_hash, now=now)


def _finish(
    sessions: sessionmaker[Session], key: str, status: int = 200, body: bytes = BODY
) -> None:
    with sessions.begin() as s:
        idempotency.finish(s, SCOPE, key, status, body, content_type="application/json")


def test_finished_request_replays_byte_identical(sessions: sessionmaker[Session]) -> None:
    digest = idempotency.fingerprint("POST", "/v1/drafts/drf_1/approve", b'{"text": null}')
    assert isinstance(_begin(sessions, "k1", digest), Started)
    _finish(sessions, "k1")

    replay = _begin(sessions, "k1", digest, T0 + timedelta(hours=1))
    assert replay == Replay(200, BODY, "application/json")


def test_error_responses_are_replayed_too(sessions: sessionmaker[Session]) -> None:
    _begin(sessions, "k409", "h")
    _finish(sessions, "k409", 409, b'{"title": "Conflict"}')
    assert _begin(sessions, "k409", "h") == Replay(
        409, b'{"title": "Conflict"}', "application/json"
    )


def test_same_key_with_a_different_request_is_a_mismatch(sessions: sessionmaker[Session]) -> None:
    _begin(sessions, "k2", "hash-a")
    _finish(sessions, "k2")
    with pytest.raises(IdempotencyMismatch, match="different request"):
        _begin(sessions, "k2", "hash-b")


def test_same_key_while_the_first_is_running_is_in_flight(sessions: sessionmaker[Session]) -> None:
    _begin(sessions, "k3", "h")
    with pytest.raises(IdempotencyInFlight, match="still being processed"):
        _begin(sessions, "k3", "h", T0 + timedelta(seconds=2))


def test_scopes_keep_keys_apart(sessions: sessionmaker[Session]) -> None:
    _begin(sessions, "shared", "h1")
    with sessions.begin() as s:
        assert isinstance(idempotency.begin(s, "other|tok_x", "shared", "h2", now=T0), Started)


def test_key_may_be_reused_after_24_hours(sessions: sessionmaker[Session]) -> None:
    _begin(sessions, "k4", "old")
    _finish(sessions, "k4")
    assert isinstance(_begin(sessions, "k4", "new", T0 + timedelta(hours=24, seconds=1)), Started)
    _finish(sessions, "k4", 201, b"new body")
    assert _begin(sessions, "k4", "new", T0 + timedelta(hours=25)) == Replay(
        201, b"new body", "application/json"
    )


def test_abandoned_or_orphaned_in_flight_keys_can_run_again(
    sessions: sessionmaker[Session],
) -> None:
    _begin(sessions, "k5", "h")
    with sessions.begin() as s:
        idempotency.abandon(s, SCOPE, "k5")
    assert isinstance(_begin(sessions, "k5", "h"), Started)
    # The process died without abandon: after the in-flight timeout a retry takes over.
    assert isinstance(_begin(sessions, "k5", "h", T0 + timedelta(minutes=6)), Started)


def test_finish_without_begin_and_bad_keys(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s, pytest.raises(InvalidStateError, match="not in flight"):
        idempotency.finish(s, SCOPE, "never-begun", 200, b"")
    with sessions.begin() as s, pytest.raises(InvalidInputError, match="1 to 255"):
        idempotency.begin(s, SCOPE, "", "h")
    with sessions.begin() as s, pytest.raises(InvalidInputError, match="1 to 255"):
        idempotency.begin(s, SCOPE, "x" * 256, "h")


def test_fingerprint_is_unambiguous() -> None:
    assert idempotency.fingerprint("ab", "c") != idempotency.fingerprint("a", "bc")
    assert idempotency.fingerprint("a", b"b") == idempotency.fingerprint(b"a", "b")


def test_racing_first_uses_start_exactly_once(sessions: sessionmaker[Session]) -> None:
    threads = 8
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait()
        try:
            outcome = type(_begin(sessions, "race", "h")).__name__
        except IdempotencyInFlight:
            outcome = "in_flight"
        with lock:
            outcomes.append(outcome)

    workers = [threading.Thread(target=attempt) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(outcomes) == ["Started"] + ["in_flight"] * (threads - 1)


def test_an_orphaned_key_is_taken_over_after_its_lease_not_five_minutes(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        idempotency.begin(s, SCOPE, "k6", "h", now=T0, holder="dead")
    with sessions.begin() as s, pytest.raises(IdempotencyInFlight):
        idempotency.begin(s, SCOPE, "k6", "h", now=T0 + timedelta(seconds=29), holder="retry")
    with sessions.begin() as s:
        later = T0 + timedelta(seconds=31)
        assert isinstance(
            idempotency.begin(s, SCOPE, "k6", "h", now=later, holder="retry"), Started
        )
    assert timedelta(minutes=5) > idempotency.DEFAULT_LEASE


def test_an_attempt_that_lost_its_key_cannot_store_a_response_or_abandon_it(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        idempotency.begin(s, SCOPE, "k7", "h", now=T0, holder="slow")
    with sessions.begin() as s:
        later = T0 + timedelta(seconds=31)
        idempotency.begin(s, SCOPE, "k7", "h", now=later, holder="retry")
    with sessions.begin() as s, pytest.raises(IdempotencyInFlight, match="took it over"):
        idempotency.finish(s, SCOPE, "k7", 200, b"slow", holder="slow")
    with sessions.begin() as s:
        idempotency.abandon(s, SCOPE, "k7", holder="slow")  # not its key any more: no-op
    with sessions.begin() as s:
        idempotency.finish(
            s, SCOPE, "k7", 201, b"retry", content_type="application/json", holder="retry"
        )
    assert _begin(sessions, "k7", "h", T0 + timedelta(minutes=1)) == Replay(
        201, b"retry", "application/json"
    )
