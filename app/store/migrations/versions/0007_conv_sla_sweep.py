"""Conversation links for emailed replies (issue 17, with the SLA sweep).

Revision ID: 0007_conv_sla_sweep
Revises: 0006_contacts
Create Date: 2026-12-06

- ``conversation_links``: further tokens (their SHA-256 only) opening a /help contact's
  conversation, one per emailed reply: the token the developer was first given is
  stored hashed, so an email cannot repeat it and carries a link of its own.

The SLA sweep itself needs no schema change: it reads and writes the ``ticket_states``
clocks of 0005 through their ``ix_ticket_states_sla`` index.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_conv_sla_sweep"
down_revision: str | None = "0006_contacts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_links",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("ticket_id", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_conversation_links"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_conversation_links_ticket_id_tickets",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_conversation_links_ticket_id", "conversation_links", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_conversation_links_ticket_id", table_name="conversation_links")
    op.drop_table("conversation_links")
