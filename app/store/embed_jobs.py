"""Embedding jobs: a sync's chunks, embedded and written by whichever machines claim them.

A run (``embed_runs``) is one planned sync of one Chroma collection.  The planner
(``triage ingest --enqueue``) adds ``embed`` jobs while it reads the docs, each holding
whole documents' chunks (texts, metadata, the stale chunks to delete after), then seals
the run with one ``finish`` job (prune vanished documents, update the lexical index, bump
the collection revision).  Jobs only become claimable once their run is sealed, so a
planner that dies leaves a run nobody has touched: the next planner deletes it once its
``planner_until`` lease has run out and plans again.

Claiming works as the outbox's (claims.py): on PostgreSQL ``SELECT … FOR UPDATE SKIP
LOCKED`` then an UPDATE of exactly those rows, on SQLite one UPDATE under the database
write lock.  A claim is a lease (``leased_until``), renewed by its worker while the job
runs (``renew``): a worker that dies mid-job leaves it to run out, and the job is due
again for anyone.  Redoing a job is harmless because its writes are idempotent (chunk ids
come from content; ingest/doc_writes.py).  ``complete`` is a compare-and-set on the claim,
so a worker whose lease was taken over learns it lost.

After ``max_attempts`` (TRIAGE_INGEST_JOB_MAX_ATTEMPTS) a job is failed, never claimed
again: on a failure of its last attempt (``fail``) or when its last lease runs out (its
worker killed on it every time, say by the OOM killer on one huge document).  The finish
job is due once no embed job of its run is left to run, so a failed one does not hold the
run back; the next plan queues its documents again, as Chroma lacks their new chunks.  A
failed finish job fails its run, which frees the collection.  Failed jobs keep their
payload, so operators see which documents they carried (embed_runs.py).

One unfinished run per collection (``open_collection`` is unique while the run is not
done, NULL after): a second planner would read Chroma half-written by the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from app.store.claims import picked
from app.store.columns import utcnow
from app.store.embed_job_tables import EmbedJob, EmbedRun, JobKind, JobStatus, RunStatus
from app.store.errors import ConflictError
from app.store.ids import new_id
from app.store.outbox import backoff_seconds

MAX_ERROR_CHARS = 2000
DEFAULT_MAX_ATTEMPTS = 5
# Given to a job whose last lease ran out: no worker lived to say what went wrong.
ABANDONED = "its worker stopped reporting on the last attempt (killed or frozen mid-job)"


class RunInProgressError(ConflictError):
    """The collection already has an unfinished run."""


@dataclass(frozen=True)
class Claim:
    """One worker's lease on one job; pass it back to ``renew``/``complete``/``fail``."""

    job_id: str
    run_id: str
    collection: str
    kind: JobKind
    payload: dict[str, Any]
    attempts: int
    worker: str


# -- planning ------------------------------------------------------------------------
def start_run(
    session: Session, collection: str, *, lease: timedelta, now: datetime | None = None
) -> str:
    """A new run in ``planning``; raises RunInProgressError while another is unfinished
    (a planning run whose planner's lease ran out is deleted instead)."""
    now = now or utcnow()
    current = session.execute(
        select(EmbedRun.id, EmbedRun.status, EmbedRun.planner_until).where(
            EmbedRun.open_collection == collection
        )
    ).first()
    if current is not None:
        run_id, status, planner_until = current
        if status != "planning" or planner_until > now:
            raise RunInProgressError(f"run {run_id} of collection {collection!r} is {status}")
        # Its jobs were never claimable: nothing of it reached Chroma but metadata refreshes.
        session.execute(delete(EmbedJob).where(EmbedJob.run_id == run_id))
        session.execute(delete(EmbedRun).where(EmbedRun.id == run_id))
    run_id = new_id("erun")
    try:
        with session.begin_nested():
            session.add(
                EmbedRun(
                    id=run_id,
                    collection=collection,
                    open_collection=collection,
                    status="planning",
                    planner_until=now + lease,
                    report={},
                    created_at=now,
                )
            )
    except IntegrityError as exc:
        raise RunInProgressError(f"collection {collection!r} has another run starting") from exc
    return run_id


def add_job(
    session: Session,
    run_id: str,
    payload: dict[str, Any],
    chunks: int,
    *,
    lease: timedelta,
    kind: JobKind = "embed",
    now: datetime | None = None,
) -> str:
    """Queue one job and renew the planner's lease; raises ConflictError when the run is
    no longer this planner's to fill (taken over after the lease ran out)."""
    now = now or utcnow()
    renewed = session.execute(
        update(EmbedRun)
        .where(EmbedRun.id == run_id, EmbedRun.status == "planning")
        .values(planner_until=now + lease)
        .returning(EmbedRun.id)
    ).first()
    if renewed is None:
        raise ConflictError(f"run {run_id} is no longer being planned")
    seq = session.scalar(select(func.count()).where(EmbedJob.run_id == run_id)) or 0
    job_id = new_id("ejob")
    session.add(
        EmbedJob(
            id=job_id,
            run_id=run_id,
            seq=seq,
            kind=kind,
            status="pending",
            payload=payload,
            chunks=chunks,
        )
    )
    session.flush()
    return job_id


def seal(
    session: Session,
    run_id: str,
    finish: dict[str, Any],
    *,
    lease: timedelta,
    now: datetime | None = None,
) -> None:
    """Add the run's finish job and open the run to workers."""
    add_job(session, run_id, finish, 0, lease=lease, kind="finish", now=now)
    session.execute(
        update(EmbedRun)
        .where(EmbedRun.id == run_id, EmbedRun.status == "planning")
        .values(status="open")
    )


def record_report(session: Session, run_id: str, report: dict[str, Any]) -> None:
    """The planner's sync report, for operators (workers never read it)."""
    session.execute(update(EmbedRun).where(EmbedRun.id == run_id).values(report=report))


# -- working -------------------------------------------------------------------------
def _due(now: datetime) -> ColumnElement[bool]:
    other = aliased(EmbedJob)
    unfinished_embeds = exists().where(
        other.run_id == EmbedJob.run_id,
        other.kind == "embed",
        other.status.in_(("pending", "running")),
    )
    open_runs = select(EmbedRun.id).where(EmbedRun.status == "open")
    return and_(
        EmbedJob.run_id.in_(open_runs),
        or_(
            and_(
                EmbedJob.status == "pending",
                or_(EmbedJob.leased_until.is_(None), EmbedJob.leased_until <= now),
            ),
            and_(EmbedJob.status == "running", EmbedJob.leased_until <= now),
        ),
        or_(EmbedJob.kind == "embed", ~unfinished_embeds),
    )


def _give_up_abandoned(session: Session, max_attempts: int, now: datetime) -> None:
    """Fail the jobs out of attempts that nobody holds any more (skipping rows another
    claimer has locked, as claims do: no waiting, no deadlock between workers)."""
    out_of_attempts = and_(
        EmbedJob.attempts >= max_attempts,
        or_(
            and_(EmbedJob.status == "running", EmbedJob.leased_until <= now),
            # Only when the limit was lowered since: fail() never leaves such a job pending.
            and_(
                EmbedJob.status == "pending",
                or_(EmbedJob.leased_until.is_(None), EmbedJob.leased_until <= now),
            ),
        ),
    )
    chosen = picked(session, select(EmbedJob.id).where(out_of_attempts), EmbedJob.id)
    if chosen is None:
        return
    rows = session.execute(
        update(EmbedJob)
        .where(chosen, out_of_attempts)
        .values(
            status="failed",
            leased_until=None,
            done_at=now,
            last_error=case((EmbedJob.status == "running", ABANDONED), else_=EmbedJob.last_error),
        )
        .returning(EmbedJob.run_id, EmbedJob.kind)
        .execution_options(synchronize_session=False)
    ).all()
    _close_runs(session, {run_id for run_id, kind in rows if kind == "finish"}, "failed", now)


def _close_runs(session: Session, run_ids: set[str], status: RunStatus, now: datetime) -> None:
    """Done or failed, the run frees its collection for the next plan."""
    if run_ids:
        session.execute(
            update(EmbedRun)
            .where(EmbedRun.id.in_(run_ids), EmbedRun.status == "open")
            .values(status=status, open_collection=None, finished_at=now)
        )


def claim(
    session: Session,
    worker: str,
    *,
    lease: timedelta,
    limit: int = 1,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    now: datetime | None = None,
) -> list[Claim]:
    """Lease up to ``limit`` due jobs to ``worker`` (oldest run first); commit before
    working on them.  Jobs that have had ``max_attempts`` are failed instead."""
    now = now or utcnow()
    _give_up_abandoned(session, max_attempts, now)
    due = and_(_due(now), EmbedJob.attempts < max_attempts)
    # "embed" sorts before "finish": a run's finish job comes last anyway.
    order = (EmbedJob.run_id, EmbedJob.kind, EmbedJob.seq)
    pick = select(EmbedJob.id).where(due).order_by(*order).limit(limit)
    chosen = picked(session, pick, EmbedJob.id)
    if chosen is None:
        return []
    rows = session.execute(
        update(EmbedJob)
        .where(chosen, due)
        .values(
            status="running",
            claimed_by=worker,
            leased_until=now + lease,
            attempts=EmbedJob.attempts + 1,
        )
        .returning(EmbedJob.id, EmbedJob.run_id, EmbedJob.kind, EmbedJob.payload, EmbedJob.attempts)
        .execution_options(synchronize_session=False)
    ).all()
    collections = dict(
        session.execute(
            select(EmbedRun.id, EmbedRun.collection).where(EmbedRun.id.in_({r[1] for r in rows}))
        ).all()
    )
    claims = [
        Claim(job_id, run_id, collections[run_id], kind, payload, attempts, worker)
        for job_id, run_id, kind, payload, attempts in rows
    ]
    return sorted(claims, key=lambda c: (c.run_id, c.kind, c.job_id))


def _held(claim_: Claim) -> ColumnElement[bool]:
    return and_(
        EmbedJob.id == claim_.job_id,
        EmbedJob.status == "running",
        EmbedJob.claimed_by == claim_.worker,
        EmbedJob.attempts == claim_.attempts,
    )


def renew(
    session: Session, claim_: Claim, *, lease: timedelta, now: datetime | None = None
) -> bool:
    """Extend the lease; False when another worker has taken the job over."""
    row = session.execute(
        update(EmbedJob)
        .where(_held(claim_))
        .values(leased_until=(now or utcnow()) + lease)
        .returning(EmbedJob.id)
    ).first()
    return row is not None


def complete(
    session: Session, claim_: Claim, *, embedded: int = 0, now: datetime | None = None
) -> bool:
    """Mark the job done (and its run, for a finish job); False when the claim was lost.

    The payload (every text of its documents) is dropped in the same UPDATE rather than
    done jobs deleted after a retention window: nothing reads a done job's payload, this
    needs no sweeper and no setting, and the row (chunks, attempts, embedded, done_at)
    stays for the run's summary, a few hundred bytes (8k rows for a million chunks).  A
    finish job's payload goes too; a failed job keeps its own (embed_runs.py lists it)."""
    now = now or utcnow()
    row = session.execute(
        update(EmbedJob)
        .where(_held(claim_))
        .values(
            status="done",
            payload={},
            embedded=embedded,
            done_at=now,
            leased_until=None,
            last_error=None,
        )
        .returning(EmbedJob.id)
    ).first()
    if row is None:
        return False
    if claim_.kind == "finish":
        _close_runs(session, {claim_.run_id}, "done", now)
    return True


def fail(
    session: Session,
    claim_: Claim,
    *,
    error: str,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    now: datetime | None = None,
) -> JobStatus | None:
    """Give the job back to be retried after a backoff (Chroma down, a model error), or
    fail it for good once it has had ``max_attempts``.  Returns its new status, None when
    the claim was lost.  ``error`` is shown to operators: no secrets or paths in it."""
    now = now or utcnow()
    status: JobStatus
    if claim_.attempts >= max_attempts:  # keeps claimed_by: which host gave up on it
        status, values = "failed", {"leased_until": None, "done_at": now}
    else:
        retry_at = now + timedelta(seconds=backoff_seconds(claim_.attempts))
        status, values = "pending", {"claimed_by": None, "leased_until": retry_at}
    row = session.execute(
        update(EmbedJob)
        .where(_held(claim_))
        .values(status=status, last_error=error[:MAX_ERROR_CHARS], **values)
        .returning(EmbedJob.id)
    ).first()
    if row is None:
        return None
    if status == "failed" and claim_.kind == "finish":
        _close_runs(session, {claim_.run_id}, "failed", now)
    return status
