"""Metric views: volumes, timings, SLA, draft acceptance, triage accuracy, agents.

Revision ID: 0008_metric_views
Revises: 0007_conv_sla_sweep
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
- ``metric_ticket_facts``, ``metric_draft_facts``, ``metric_action_facts``: stored copies
  of three of those views, refreshed per ticket (app/operations/metrics/refresh.py) and read by
  GET /v1/stats (app/store/metric_facts.py says why).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from app.store.migrations.metric_views_0007 import create_views, drop_views

revision: str = "0008_metric_views"
down_revision: str | None = "0007_conv_sla_sweep"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(40)
TS = sa.DateTime(timezone=True)
TIMINGS = ("first_draft", "first_response", "approval", "resolution")
TOKENS = ("prompt", "completion", "total")
CLOCK_FLAGS = (
    "sla_first_response_breached",
    "sla_next_response_breached",
    "sla_resolution_breached",
)


def _column(name: str, kind: sa.types.TypeEngine[Any], nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, kind, nullable=nullable)


def _ticket_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["ticket_id"], ["tickets.id"], name=f"fk_{table}_ticket_id_tickets", ondelete="CASCADE"
    )


def _grouping(nullable_team: bool = True) -> list[sa.Column[Any]]:
    """Columns every fact table shares: when, and the ticket's routing."""
    return [
        _column("created_at", TS),
        _column("day", sa.String(10)),
        _column("week", sa.String(10)),
        _column("channel", sa.String(32)),
        _column("category", sa.String(64), nullable=True),
        _column("priority", sa.String(8)),
        _column("team", sa.String(64), nullable=nullable_team),
    ]


def _create_fact_tables() -> None:
    op.create_table(
        "metric_ticket_facts",
        _column("ticket_id", ID),
        *_grouping(),
        _column("assignee", sa.String(200), nullable=True),
        _column("self_service", sa.Integer()),
        _column("reopens", sa.Integer()),
        *(_column(f"seconds_to_{m}", sa.BigInteger(), nullable=True) for m in TIMINGS),
        _column("sla_tracked", sa.Integer()),
        _column("sla_breached", sa.Integer(), nullable=True),
        *(_column(c, sa.Integer(), nullable=True) for c in CLOCK_FLAGS),
        _column("ticket_updated_at", TS),
        _column("state_updated_at", TS, nullable=True),
        _column("recheck_at", TS, nullable=True),
        _column("refreshed_at", TS),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_metric_ticket_facts"),
        _ticket_fk("metric_ticket_facts"),
    )
    for column in ("created_at", "recheck_at", "refreshed_at"):
        op.create_index(f"ix_metric_ticket_facts_{column}", "metric_ticket_facts", [column])
    op.create_table(
        "metric_draft_facts",
        _column("draft_id", ID),
        _column("ticket_id", ID),
        *_grouping(),
        _column("drafter", sa.String(32)),
        _column("outcome", sa.String(20)),
        _column("rewritten_by_hand", sa.Integer()),
        _column("edit_distance", sa.Integer(), nullable=True),
        _column("reviewer_name", sa.String(200), nullable=True),
        *(_column(f"{k}_tokens", sa.Integer(), nullable=True) for k in TOKENS),
        sa.PrimaryKeyConstraint("draft_id", name="pk_metric_draft_facts"),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["drafts.id"],
            name="fk_metric_draft_facts_draft_id_drafts",
            ondelete="CASCADE",
        ),
        _ticket_fk("metric_draft_facts"),
    )
    for column in ("created_at", "ticket_id"):
        op.create_index(f"ix_metric_draft_facts_{column}", "metric_draft_facts", [column])
    op.create_table(
        "metric_action_facts",
        _column("action_id", ID),
        _column("ticket_id", ID),
        _column("agent", sa.String(320)),
        _column("agent_name", sa.String(320)),
        _column("at", TS),
        _column("at_epoch", sa.BigInteger()),
        _column("day", sa.String(10)),
        _column("week", sa.String(10)),
        _column("action", sa.String(32)),
        _column("gap_seconds", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("action_id", name="pk_metric_action_facts"),
        _ticket_fk("metric_action_facts"),
    )
    for column in ("at", "ticket_id"):
        op.create_index(f"ix_metric_action_facts_{column}", "metric_action_facts", [column])
    op.create_index(
        "ix_metric_action_facts_agent_at", "metric_action_facts", ["agent", "at", "action_id"]
    )


def upgrade() -> None:
    for column in CLOCK_FLAGS:
        op.add_column(
            "ticket_states",
            sa.Column(column, sa.Boolean(), nullable=False, server_default=sa.false()),
        )
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])
    # Finding the tickets whose metric facts are stale (app/operations/metrics/refresh.py).
    op.create_index("ix_tickets_updated_at", "tickets", ["updated_at"])
    op.create_index("ix_ticket_states_updated_at", "ticket_states", ["updated_at"])
    op.create_index("ix_drafts_created_at", "drafts", ["created_at"])
    op.create_index("ix_review_events_draft_id", "review_events", ["draft_id"])
    op.create_index("ix_review_events_created_at", "review_events", ["created_at"])
    op.create_index("ix_ticket_messages_created_at", "ticket_messages", ["created_at"])
    create_views(op.execute, op.get_bind().dialect.name)
    _create_fact_tables()


def downgrade() -> None:
    for table in ("metric_action_facts", "metric_draft_facts", "metric_ticket_facts"):
        op.drop_table(table)
    drop_views(op.execute, op.get_bind().dialect.name)
    op.drop_index("ix_ticket_messages_created_at", table_name="ticket_messages")
    op.drop_index("ix_review_events_created_at", table_name="review_events")
    op.drop_index("ix_review_events_draft_id", table_name="review_events")
    op.drop_index("ix_drafts_created_at", table_name="drafts")
    op.drop_index("ix_tickets_created_at", table_name="tickets")
    op.drop_index("ix_tickets_updated_at", table_name="tickets")
    op.drop_index("ix_ticket_states_updated_at", table_name="ticket_states")
    with op.batch_alter_table("ticket_states") as batch:
        for column in CLOCK_FLAGS:
            batch.drop_column(column)
