"""Embedding-job claims on SQLite and PostgreSQL: disjoint, leased, taken over when a
worker dies, finished once, given up after the last attempt, one unfinished run per
collection."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.store import embed_jobs as jobs
from app.store import embed_runs as runs
from app.store.columns import utcnow
from app.store.embed_job_tables import EmbedJob
from app.store.errors import ConflictError

LEASE = timedelta(seconds=60)


def _sealed_run(
    sessions: sessionmaker[Session], n_jobs: int, now: datetime, collection: str = "docs"
) -> str:
    with sessions.begin() as s:
        run_id = jobs.start_run(s, collection, lease=LEASE, now=now)
        for i in range(n_jobs):
            jobs.add_job(s, run_id, {"n": i}, 10, lease=LEASE, now=now)
        jobs.seal(s, run_id, {"finish": True}, lease=LEASE, now=now)
    return run_id


def _claim(
    sessions: sessionmaker[Session], worker: str, now: datetime, limit: int = 1
) -> list[jobs.Claim]:
    with sessions.begin() as s:
        return jobs.claim(s, worker, lease=LEASE, limit=limit, now=now)


def test_jobs_wait_for_the_seal_and_the_finish_job_for_every_embed_job(
    sessions: sessionmaker[Session],
) -> None:
    now = utcnow()
    with sessions.begin() as s:
        run_id = jobs.start_run(s, "docs", lease=LEASE, now=now)
        jobs.add_job(s, run_id, {"n": 0}, 10, lease=LEASE, now=now)
    assert _claim(sessions, "w1", now) == []  # still being planned

    with sessions.begin() as s:
        jobs.seal(s, run_id, {"finish": True}, lease=LEASE, now=now)
    first = _claim(sessions, "w1", now)
    assert [c.kind for c in first] == ["embed"]
    assert first[0].payload == {"n": 0}
    assert first[0].collection == "docs"
    assert _claim(sessions, "w2", now) == []  # finish waits for the running embed job

    with sessions.begin() as s:
        assert jobs.complete(s, first[0], embedded=10, now=now)
    (finish,) = _claim(sessions, "w2", now)
    assert finish.kind == "finish"
    assert finish.payload == {"finish": True}
    with sessions.begin() as s:
        assert runs.open_runs(s) == 1
        assert jobs.complete(s, finish, now=now)
        assert runs.open_runs(s) == 0
        summary = runs.run_summary(s, run_id)
        payloads = s.scalars(select(EmbedJob.payload)).all()
    assert summary["status"] == "done"
    assert summary["jobs_done"] == summary["jobs"] == 1
    assert payloads == [{}, {}]  # done jobs keep no texts


def test_claims_are_disjoint_and_a_dead_workers_lease_is_taken_over(
    sessions: sessionmaker[Session],
) -> None:
    now = utcnow()
    _sealed_run(sessions, 4, now)
    a = _claim(sessions, "a", now, limit=2)
    b = _claim(sessions, "b", now, limit=2)
    assert len(a) == len(b) == 2
    assert not {c.job_id for c in a} & {c.job_id for c in b}
    assert _claim(sessions, "c", now) == []

    # "a" dies: after its lease, "c" takes its jobs over and "a" can no longer finish them.
    later = now + LEASE + timedelta(seconds=1)
    with sessions.begin() as s:
        for claim in b:
            assert jobs.renew(s, claim, lease=LEASE, now=later - timedelta(seconds=2))
    taken = _claim(sessions, "c", later, limit=4)
    assert {c.job_id for c in taken} == {c.job_id for c in a}
    assert all(c.attempts == 2 for c in taken)
    with sessions.begin() as s:
        assert not jobs.complete(s, a[0], now=later)
        assert not jobs.renew(s, a[1], lease=LEASE, now=later)
        assert all(jobs.complete(s, c, now=later) for c in taken + b)


def test_a_failed_job_is_retried_after_a_backoff(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    _sealed_run(sessions, 1, now)
    (claim,) = _claim(sessions, "a", now)
    with sessions.begin() as s:
        assert jobs.fail(s, claim, error="chroma down", now=now)
    assert _claim(sessions, "b", now) == []
    (again,) = _claim(sessions, "b", now + timedelta(seconds=10))
    assert again.job_id == claim.job_id
    assert again.attempts == 2


def _doc_job(doc_id: str) -> dict[str, object]:
    return {"writes": [{"doc_id": doc_id}]}


def test_a_job_that_always_fails_is_failed_after_its_last_attempt_and_the_run_finishes(
    sessions: sessionmaker[Session],
) -> None:
    now = utcnow()
    with sessions.begin() as s:
        run_id = jobs.start_run(s, "docs", lease=LEASE, now=now)
        poison = jobs.add_job(s, run_id, _doc_job("guides/poison.md"), 10, lease=LEASE, now=now)
        for name in ("a.md", "b.md"):
            jobs.add_job(s, run_id, _doc_job(name), 10, lease=LEASE, now=now)
        jobs.seal(s, run_id, {"touched": [], "delete": []}, lease=LEASE, now=now)

    attempts, completed = 0, set()
    for _ in range(10):
        now += timedelta(hours=2)  # past any retry's backoff
        for claim in _claim(sessions, "w", now, limit=5):
            with sessions.begin() as s:
                if claim.job_id == poison:
                    attempts += 1
                    assert claim.attempts == attempts
                    status = jobs.fail(s, claim, error="ValueError", max_attempts=3, now=now)
                    assert status == ("failed" if attempts == 3 else "pending")
                else:
                    assert jobs.complete(s, claim, now=now)
                    completed.add(claim.kind)
    assert attempts == 3  # never claimed again after the third
    assert completed == {"embed", "finish"}  # the others and the finish job still ran
    with sessions.begin() as s:
        summary = runs.run_summary(s, run_id)
        assert runs.open_runs(s) == 0
    assert summary["status"] == "done"
    assert (summary["jobs"], summary["jobs_done"], summary["jobs_failed"]) == (3, 2, 1)
    (failed,) = summary["failed"]
    assert failed["job"] == poison
    assert failed["attempts"] == 3
    assert failed["reason"] == "ValueError"
    assert failed["docs"] == ["guides/poison.md"]
    with sessions.begin() as s:  # the collection is free for the next plan
        jobs.start_run(s, "docs", lease=LEASE, now=now)


def test_a_job_whose_worker_dies_on_every_attempt_fails_when_its_last_lease_runs_out(
    sessions: sessionmaker[Session],
) -> None:
    now = utcnow()
    _sealed_run(sessions, 1, now)
    for attempt in (1, 2):
        (claim,) = _claim(sessions, f"w{attempt}", now)
        assert claim.attempts == attempt
        now += LEASE + timedelta(seconds=1)  # the worker died: its lease runs out
    with sessions.begin() as s:
        # Given up instead of claimed a third time: the finish job is next.
        (finish,) = jobs.claim(s, "w3", lease=LEASE, max_attempts=2, now=now)
        assert finish.kind == "finish"
        job = s.scalars(select(EmbedJob).where(EmbedJob.kind == "embed")).one()
    assert job.status == "failed"
    assert job.last_error == jobs.ABANDONED
    assert job.attempts == 2


def test_a_finish_job_that_fails_for_good_fails_its_run_and_frees_the_collection(
    sessions: sessionmaker[Session],
) -> None:
    now = utcnow()
    run_id = _sealed_run(sessions, 0, now)
    (finish,) = _claim(sessions, "w", now)
    with sessions.begin() as s:
        assert jobs.fail(s, finish, error="OSError", max_attempts=1, now=now) == "failed"
    with sessions.begin() as s:
        summary = runs.run_summary(s, run_id)
        assert runs.open_runs(s) == 0
        again = jobs.start_run(s, "docs", lease=LEASE, now=now)
    assert summary["status"] == "failed"
    assert [(j["kind"], j["reason"], j["docs"]) for j in summary["failed"]] == [
        ("finish", "OSError", [])
    ]
    assert again != run_id


def test_one_unfinished_run_per_collection_and_a_dead_planners_run_is_replaced(
    sessions: sessionmaker[Session],
) -> None:
    now = utcnow()
    run_id = _sealed_run(sessions, 1, now)
    with sessions.begin() as s, pytest.raises(jobs.RunInProgressError, match=run_id):
        jobs.start_run(s, "docs", lease=LEASE, now=now + timedelta(days=1))
    with sessions.begin() as s:
        other = jobs.start_run(s, "other", lease=LEASE, now=now)
        jobs.add_job(s, other, {"n": 0}, 10, lease=LEASE, now=now)
    with sessions.begin() as s, pytest.raises(jobs.RunInProgressError):
        jobs.start_run(s, "other", lease=LEASE, now=now + timedelta(seconds=1))

    # The planner of "other" died: once its lease ran out, a new planner starts afresh.
    later = now + LEASE + timedelta(seconds=1)
    with sessions.begin() as s:
        fresh = jobs.start_run(s, "other", lease=LEASE, now=later)
        assert runs.run_summary(s, other) == {}
    with sessions.begin() as s, pytest.raises(ConflictError):
        jobs.add_job(s, other, {"n": 1}, 10, lease=LEASE, now=later)
    assert fresh != other


def test_postgres_claims_skip_rows_locked_by_an_open_claim(
    pg_sessions: sessionmaker[Session],
) -> None:
    now = utcnow()
    _sealed_run(pg_sessions, 3, now)
    # The first claimer's transaction is still open (its rows locked, not yet updated
    # as far as others can see): the second skips them instead of waiting or doubling.
    with pg_sessions.begin() as first:
        mine = jobs.claim(first, "a", lease=LEASE, limit=2, now=now)
        theirs = _claim(pg_sessions, "b", now, limit=3)
    assert len(mine) == 2
    assert len(theirs) == 1
    assert not {c.job_id for c in mine} & {c.job_id for c in theirs}
