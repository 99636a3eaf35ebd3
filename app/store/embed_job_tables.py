"""The embedding-run and embedding-job tables (what they do: app/store/embed_jobs.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.store.columns import UTCDateTime, json_type, utcnow
from app.store.models import ID_LEN, Base, one_of

RunStatus = Literal["planning", "open", "done", "failed"]
JobKind = Literal["embed", "finish"]
JobStatus = Literal["pending", "running", "done", "failed"]
RUN_STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)
JOB_KINDS: tuple[JobKind, ...] = get_args(JobKind)
JOB_STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)


class EmbedRun(Base):
    __tablename__ = "embed_runs"
    __table_args__ = (CheckConstraint(one_of("status", RUN_STATUSES), name="status"),)

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    collection: Mapped[str] = mapped_column(String(200))
    # The collection while the run is unfinished, NULL once done: unique, so one open run.
    open_collection: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[RunStatus] = mapped_column(String(16))
    planner_until: Mapped[datetime] = mapped_column(UTCDateTime())
    report: Mapped[dict[str, Any]] = mapped_column(json_type())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EmbedJob(Base):
    __tablename__ = "embed_jobs"
    __table_args__ = (
        CheckConstraint(one_of("kind", JOB_KINDS), name="kind"),
        CheckConstraint(one_of("status", JOB_STATUSES), name="status"),
        Index("ix_embed_jobs_claim", "status", "leased_until"),
        Index("ix_embed_jobs_run", "run_id", "kind", "status"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("embed_runs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[JobKind] = mapped_column(String(8))
    status: Mapped[JobStatus] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(json_type())
    chunks: Mapped[int] = mapped_column(Integer)
    # Counted at claim time, so a worker that dies mid-job still uses up an attempt.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    # Running: the claim's end.  Pending: not before (a retry's backoff), or NULL.
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    embedded: Mapped[int | None] = mapped_column(Integer)
    # Shown to operators: the caller keeps secrets and file paths out of it.
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
