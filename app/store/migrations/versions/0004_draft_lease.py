"""Drafting leases: a worker claims a ``drafting`` ticket in the ticket's own row.

Revision ID: 0004_draft_lease
Revises: 0003_reusable_answers
Create Date: 2026-12-06

- ``tickets.draft_worker`` / ``draft_leased_until``: the drafting worker holding the
  ticket and until when.  A worker that dies mid-draft leaves the lease to run out, after
  which another takes the ticket over (as the outbox does with its claims).
- The idempotency records that served as drafting claims before (scope
  ``worker:drafting``, holding a made-up ``200 text/plain`` response) are deleted.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_draft_lease"
down_revision: str | None = "0003_reusable_answers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_CLAIM_SCOPE = "worker:drafting"


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("draft_worker", sa.String(200), nullable=True))
        batch.add_column(sa.Column("draft_leased_until", sa.DateTime(timezone=True), nullable=True))
    keys = sa.table("idempotency_keys", sa.column("scope", sa.String(255)))
    op.execute(sa.delete(keys).where(keys.c.scope == OLD_CLAIM_SCOPE))


def downgrade() -> None:
    # The old claims were only leases: a ticket still in drafting is simply claimed anew.
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("draft_leased_until")
        batch.drop_column("draft_worker")
