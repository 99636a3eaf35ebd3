"""Metric views: volumes, timings, SLA, draft acceptance, triage accuracy, agents.

Revision ID: 0007_metric_views
Revises: 0006_contacts
Create Date: 2026-12-07

- ``ticket_states`` keeps each SLA clock's breach (first response, next response,
  resolution) beside the overall ``sla_breached``: attainment per clock needs them.
  Rows from before this revision start false; the overall flag still counts them.
- Indexes for the views' lookups: tickets and drafts by creation time (date ranges),
  review events by draft (a draft's outcome), review events and conversation messages
  by time (agent activity in a date range).
- The ``metric_*`` views (app/store/migrations/metric_views_0007.py, documented column
  by column in docs/metrics.md), written per dialect where SQLite and PostgreSQL differ
  so that both answer the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.store.migrations.metric_views_0007 import create_views, drop_views

revision: str = "0007_metric_views"
down_revision: str | None = "0006_contacts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLOCK_FLAGS = (
    "sla_first_response_breached",
    "sla_next_response_breached",
    "sla_resolution_breached",
)


def upgrade() -> None:
    for column in CLOCK_FLAGS:
        op.add_column(
            "ticket_states",
            sa.Column(column, sa.Boolean(), nullable=False, server_default=sa.false()),
        )
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])
    op.create_index("ix_drafts_created_at", "drafts", ["created_at"])
    op.create_index("ix_review_events_draft_id", "review_events", ["draft_id"])
    op.create_index("ix_review_events_created_at", "review_events", ["created_at"])
    op.create_index("ix_ticket_messages_created_at", "ticket_messages", ["created_at"])
    create_views(op.execute, op.get_bind().dialect.name)


def downgrade() -> None:
    drop_views(op.execute, op.get_bind().dialect.name)
    op.drop_index("ix_ticket_messages_created_at", table_name="ticket_messages")
    op.drop_index("ix_review_events_created_at", table_name="review_events")
    op.drop_index("ix_review_events_draft_id", table_name="review_events")
    op.drop_index("ix_drafts_created_at", table_name="drafts")
    op.drop_index("ix_tickets_created_at", table_name="tickets")
    with op.batch_alter_table("ticket_states") as batch:
        for column in CLOCK_FLAGS:
            batch.drop_column(column)
