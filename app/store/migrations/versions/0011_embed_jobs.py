"""Embedding jobs that several machines claim (app/store/embed_jobs.py).

Revision ID: 0011_embed_jobs
Revises: 0010_deflection
Create Date: 2026-12-07

- ``embed_runs``: one planned sync of one Chroma collection (``triage ingest --enqueue``);
  ``open_collection`` is unique while the run is unfinished, so one run per collection.
- ``embed_jobs``: whole documents' chunks to embed and write (``embed``) and the run's
  closing step (``finish``), claimed by ``triage ingest-worker`` under a lease.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011_embed_jobs"
down_revision: str | None = "0010_deflection"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUN_STATUSES = ("planning", "open", "done")
JOB_KINDS = ("embed", "finish")
JOB_STATUSES = ("pending", "running", "done")
ID_LEN = 40


def _json() -> sa.JSON:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "embed_runs",
        sa.Column("id", sa.String(ID_LEN), nullable=False),
        sa.Column("collection", sa.String(200), nullable=False),
        sa.Column("open_collection", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("planner_until", _when(), nullable=False),
        sa.Column("report", _json(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("finished_at", _when(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_embed_runs"),
        sa.CheckConstraint(_one_of("status", RUN_STATUSES), name="ck_embed_runs_status"),
        sa.UniqueConstraint("open_collection", name="uq_embed_runs_open_collection"),
    )
    op.create_table(
        "embed_jobs",
        sa.Column("id", sa.String(ID_LEN), nullable=False),
        sa.Column("run_id", sa.String(ID_LEN), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("leased_until", _when(), nullable=True),
        sa.Column("embedded", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("done_at", _when(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_embed_jobs"),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["embed_runs.id"],
            name="fk_embed_jobs_run_id_embed_runs",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(_one_of("kind", JOB_KINDS), name="ck_embed_jobs_kind"),
        sa.CheckConstraint(_one_of("status", JOB_STATUSES), name="ck_embed_jobs_status"),
    )
    op.create_index("ix_embed_jobs_claim", "embed_jobs", ["status", "leased_until"])
    op.create_index("ix_embed_jobs_run", "embed_jobs", ["run_id", "kind", "status"])


def downgrade() -> None:
    op.drop_index("ix_embed_jobs_run", table_name="embed_jobs")
    op.drop_index("ix_embed_jobs_claim", table_name="embed_jobs")
    op.drop_table("embed_jobs")
    op.drop_table("embed_runs")
