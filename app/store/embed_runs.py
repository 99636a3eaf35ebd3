"""What operators read about embedding runs (the jobs themselves: app/store/embed_jobs.py).

``run_summary`` is what ``triage ingest --enqueue`` prints and ``triage ingest-status``
lists: the run's state, its embed jobs by status and, for every job that failed for good,
its reason and the documents it carried (read from its kept payload), so the operator
knows what the next plan will try again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.store.embed_job_tables import EmbedJob, EmbedRun


def open_runs(session: Session) -> int:
    """Sealed runs with work left (what ``ingest-worker --until-idle`` waits for)."""
    return int(session.scalar(select(func.count()).where(EmbedRun.status == "open")) or 0)


def _failed_jobs(session: Session, run_id: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(EmbedJob)
        .where(EmbedJob.run_id == run_id, EmbedJob.status == "failed")
        .order_by(EmbedJob.seq)
    ).scalars()
    return [
        {
            "job": job.id,
            "kind": job.kind,
            "attempts": job.attempts,
            "reason": job.last_error,
            "worker": job.claimed_by,
            "docs": [w["doc_id"] for w in job.payload.get("writes", [])],
        }
        for job in rows
    ]


def run_summary(session: Session, run_id: str) -> dict[str, Any]:
    run = session.get(EmbedRun, run_id)
    if run is None:
        return {}
    counts = session.execute(
        select(EmbedJob.status, func.count(), func.coalesce(func.sum(EmbedJob.chunks), 0))
        .where(EmbedJob.run_id == run_id, EmbedJob.kind == "embed")
        .group_by(EmbedJob.status)
    ).all()
    jobs = {status: int(n) for status, n, _ in counts}
    return {
        "run": run.id,
        "collection": run.collection,
        "status": run.status,
        "jobs": sum(jobs.values()),
        "jobs_done": jobs.get("done", 0),
        "jobs_failed": jobs.get("failed", 0),
        "chunks": sum(int(c) for _, _, c in counts),
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        # Every job given up on, the finish job's too (it fails the run).
        "failed": _failed_jobs(session, run_id),
    }


def recent_runs(
    session: Session, *, limit: int = 5, collection: str | None = None
) -> list[dict[str, Any]]:
    """The newest runs first (of one collection, or of all)."""
    pick = select(EmbedRun.id).order_by(EmbedRun.created_at.desc(), EmbedRun.id).limit(limit)
    if collection is not None:
        pick = pick.where(EmbedRun.collection == collection)
    return [run_summary(session, run_id) for run_id in session.scalars(pick)]
