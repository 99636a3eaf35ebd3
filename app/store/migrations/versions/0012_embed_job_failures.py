"""Embedding jobs and runs may end ``failed`` (app/store/embed_jobs.py).

Revision ID: 0012_embed_job_failures
Revises: 0011_embed_jobs
Create Date: 2026-12-08

- ``embed_jobs.status`` may also be ``failed``: the job had TRIAGE_INGEST_JOB_MAX_ATTEMPTS
  and is never claimed again (``attempts`` already existed).
- ``embed_runs.status`` may also be ``failed``: its finish job failed for good.
- Done jobs' payloads (every text of their documents) are dropped, as ``complete`` now
  does when a job is done.

On SQLite a CHECK can only change by rebuilding the table, and rebuilding ``embed_runs``
drops it: with foreign keys on (they are, and cannot be switched off inside the
migration's transaction) that first deletes its rows, and ON DELETE CASCADE every job
with them.  So the jobs are kept aside in a temporary table and put back afterwards.
PostgreSQL alters the constraints in place.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012_embed_job_failures"
down_revision: str | None = "0011_embed_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_RUN_STATUSES = ("planning", "open", "done")
OLD_JOB_STATUSES = ("pending", "running", "done")
JOB_COLUMNS = (
    "id, run_id, seq, kind, status, payload, chunks, attempts, claimed_by, leased_until, "
    "embedded, last_error, done_at"
)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _set_statuses(run_statuses: tuple[str, ...], job_statuses: tuple[str, ...]) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute(f"CREATE TEMP TABLE embed_jobs_kept AS SELECT {JOB_COLUMNS} FROM embed_jobs")
    with op.batch_alter_table("embed_runs") as batch:
        batch.drop_constraint("ck_embed_runs_status", type_="check")
        batch.create_check_constraint("ck_embed_runs_status", _one_of("status", run_statuses))
    if sqlite:
        op.execute("DELETE FROM embed_jobs")  # what the cascade left, if anything
    with op.batch_alter_table("embed_jobs") as batch:
        batch.drop_constraint("ck_embed_jobs_status", type_="check")
        batch.create_check_constraint("ck_embed_jobs_status", _one_of("status", job_statuses))
    if sqlite:
        op.execute(
            f"INSERT INTO embed_jobs ({JOB_COLUMNS}) SELECT {JOB_COLUMNS} FROM embed_jobs_kept"
        )
        op.execute("DROP TABLE embed_jobs_kept")


def upgrade() -> None:
    op.execute("UPDATE embed_jobs SET payload = '{}' WHERE status = 'done'")
    _set_statuses((*OLD_RUN_STATUSES, "failed"), (*OLD_JOB_STATUSES, "failed"))


def downgrade() -> None:
    # Before 0012 nothing gave up: failed jobs go back to being retried, failed runs are
    # closed (the next plan redoes their deletions and revision bump).
    op.execute("UPDATE embed_jobs SET status = 'pending', done_at = NULL WHERE status = 'failed'")
    op.execute("UPDATE embed_runs SET status = 'done' WHERE status = 'failed'")
    _set_statuses(OLD_RUN_STATUSES, OLD_JOB_STATUSES)
