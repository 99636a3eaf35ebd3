"""Hardening: Slack event de-duplication across processes, the creating token on a
ticket, leases with a holder on idempotency keys, unique token names.

Revision ID: 0002_hardening
Revises: 0001_initial
Create Date: 2026-12-06

- ``slack_events``: one row per Slack message handled, unique by ``event_id`` and by
  ``channel`` + ``ts``, written in the ticket's own transaction, so any number of API
  processes (and restarts) turn one Slack message into exactly one ticket.
- ``tickets.created_by``: the API token that created the ticket; an integration reads
  only its own tickets.
- ``idempotency_keys.holder`` / ``lease_until``: an in-flight key belongs to one attempt
  until its lease ends; a retry after that takes it over, and the old attempt can no
  longer store its response (the holder no longer matches).
- ``api_tokens.name`` unique: the name is half of the audit actor.  Existing duplicate
  names get the token id appended (older rows keep their name).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_hardening"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(40)


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _dedupe_token_names() -> None:
    tokens = sa.table("api_tokens", sa.column("id", ID), sa.column("name"), sa.column("created_at"))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(tokens.c.id, tokens.c.name).order_by(tokens.c.created_at, tokens.c.id)
    ).all()
    seen: set[str] = set()
    for token_id, name in rows:
        unique = name if name not in seen else f"{name[:150]}-{token_id}"
        if unique != name:
            connection.execute(sa.update(tokens).where(tokens.c.id == token_id).values(name=unique))
        seen.add(unique)


def upgrade() -> None:
    op.create_table(
        "slack_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("ticket_id", ID, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_slack_events"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_slack_events_ticket_id_tickets",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("event_id", name="uq_slack_events_event_id"),
        sa.UniqueConstraint("channel", "ts", name="uq_slack_events_channel_ts"),
        sa.CheckConstraint("outcome IN ('ticket', 'refused')", name="ck_slack_events_outcome"),
    )
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("created_by", ID, nullable=True))
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(sa.Column("holder", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lease_until", _ts(), nullable=True))
    _dedupe_token_names()
    with op.batch_alter_table("api_tokens") as batch:
        batch.create_unique_constraint("uq_api_tokens_name", ["name"])


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_constraint("uq_api_tokens_name", type_="unique")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("holder")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("created_by")
    op.drop_table("slack_events")
