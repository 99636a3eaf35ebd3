"""Earned auto-send and self-service feedback.

Revision ID: 0009_autosend_policy
Revises: 0008_metric_views (written on 0006_contacts; moved onto main's head when main
was merged in, so the chain keeps one head)
Create Date: 2026-12-06

- ``autosend_states``: per category, whether auto-send is earned (``on``) or being
  measured (``shadow``), since when reviews count, and the figures of the last switch.
- ``autosend_decisions``: one row per pipeline draft decided under the policy (would it
  have been sent, was it, was it held as a review sample), compared later with the
  agent's verdict on the same draft.
- ``self_service_answers``: answers /v1/ask showed without a ticket, with the asker's
  "did this help?" verdict (the knowledge-gap report reads the unhelpful ones).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_autosend_policy"
down_revision: str | None = "0008_metric_views"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(40)
MODES = "mode IN ('shadow', 'on')"


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.JSON:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "autosend_states",
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("window_start", _ts(), nullable=False),
        sa.Column("changed_at", _ts(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("figures", _json(), nullable=False),
        sa.PrimaryKeyConstraint("category", name="pk_autosend_states"),
        sa.CheckConstraint(MODES, name="ck_autosend_states_mode"),
    )
    op.create_table(
        "autosend_decisions",
        sa.Column("id", ID, nullable=False),
        sa.Column("draft_id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("would_send", sa.Boolean(), nullable=False),
        sa.Column("sampled", sa.Boolean(), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_autosend_decisions"),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["drafts.id"],
            name="fk_autosend_decisions_draft_id_drafts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_autosend_decisions_ticket_id_tickets",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("draft_id", name="uq_autosend_decisions_draft_id"),
        sa.CheckConstraint(MODES, name="ck_autosend_decisions_mode"),
    )
    op.create_index(
        "ix_autosend_decisions_category", "autosend_decisions", ["category", "created_at"]
    )
    op.create_table(
        "self_service_answers",
        sa.Column("id", ID, nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("citations", _json(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("category", sa.String(64), nullable=True),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("feedback", sa.String(16), nullable=True),
        sa.Column("feedback_at", _ts(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_self_service_answers"),
        sa.CheckConstraint(
            "feedback IS NULL OR feedback IN ('helpful', 'not_helpful')",
            name="ck_self_service_answers_feedback",
        ),
    )
    op.create_index(
        "ix_self_service_answers_feedback", "self_service_answers", ["feedback", "feedback_at"]
    )
    op.create_index("ix_self_service_answers_created_at", "self_service_answers", ["created_at"])


def downgrade() -> None:
    op.drop_table("self_service_answers")
    op.drop_table("autosend_decisions")
    op.drop_table("autosend_states")
