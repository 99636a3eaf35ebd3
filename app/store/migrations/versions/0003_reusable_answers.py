"""Reusable answers: agent-approved replies kept, with the doc revisions they quote,
for questions that paraphrase theirs.

Revision ID: 0003_reusable_answers
Revises: 0002_hardening
Create Date: 2026-12-06

- ``reusable_answers``: question (redacted), answer text, citations (chunk, doc, quote,
  doc_hash), language, category, status active/retired with the reason, and the ticket
  and draft it was learnt from (unique per draft, SET NULL when they are deleted).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_reusable_answers"
down_revision: str | None = "0002_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(40)


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.JSON:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "reusable_answers",
        sa.Column("id", ID, nullable=False),
        sa.Column("collection", sa.String(200), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("citations", _json(), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("category", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("source_ticket_id", ID, nullable=True),
        sa.Column("source_draft_id", ID, nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("retired_at", _ts(), nullable=True),
        sa.Column("retired_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reusable_answers"),
        sa.ForeignKeyConstraint(
            ["source_ticket_id"],
            ["tickets.id"],
            name="fk_reusable_answers_source_ticket_id_tickets",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_draft_id"],
            ["drafts.id"],
            name="fk_reusable_answers_source_draft_id_drafts",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("source_draft_id", name="uq_reusable_answers_source_draft_id"),
        sa.CheckConstraint("status IN ('active', 'retired')", name="ck_reusable_answers_status"),
    )
    op.create_index(
        "ix_reusable_answers_collection_status", "reusable_answers", ["collection", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_reusable_answers_collection_status", table_name="reusable_answers")
    op.drop_table("reusable_answers")
