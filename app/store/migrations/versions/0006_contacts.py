"""Contacts: how to reach the developer behind a /help ticket.

Revision ID: 0006_contacts
Revises: 0005_conversations
Create Date: 2026-12-06

- ``ticket_contacts``: one row per ticket handed off on /help (or asked through
  /v1/ask): the developer's email and name, both optional, and the SHA-256 of their
  conversation link's token (unique: the link finds the ticket).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_contacts"
down_revision: str | None = "0005_conversations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ticket_contacts",
        sa.Column("ticket_id", sa.String(40), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_ticket_contacts"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_ticket_contacts_ticket_id_tickets",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("token_hash", name="uq_ticket_contacts_token_hash"),
    )


def downgrade() -> None:
    op.drop_table("ticket_contacts")
