"""Deflection, business-hour timings, LLM cost and daily rollups of the metric facts.

Revision ID: 0010_deflection
Revises: 0009_autosend_policy
Create Date: 2026-12-06

- ``asker_hash_keys`` (the per-database HMAC key), ``asker_tickets`` (tickets opened from
  /help with their asker's keyed hash) and ``self_service_answers.asker_key``: whether
  the asker of an answer opened a ticket afterwards (app/store/askers.py).
- ``metric_ticket_facts``: the four timings in business hours and the tag of the metric
  settings a row was computed under; ``metric_draft_facts.cost``;
  ``metric_action_facts.prev_ticket_at`` / ``prev_agent_at``; indexes by day.
- ``metric_ticket_daily``, ``metric_draft_daily``, ``metric_action_daily``: additive
  sums of the facts per day and grouping; ``metric_timing_histogram`` (timings per bucket
  and week) and ``metric_timing_percentiles`` (exact, per day and week), for percentiles
  over long ranges (app/store/metric_rollups.py).
- Views ``metric_self_service_answers``, ``metric_self_service_daily``,
  ``metric_ticket_business_timings``, ``metric_llm_cost_daily``
  (app/store/migrations/metric_views_0010.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.store.migrations.metric_views_0010 import create_views, drop_views

revision: str = "0010_deflection"
down_revision: str | None = "0009_autosend_policy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMINGS = ("first_draft", "first_response", "approval", "resolution")
TICKET_SUMS = (
    "opened",
    "self_service",
    "reopened",
    "sla_tracked",
    "sla_breached",
    "sla_first_response_breached",
    "sla_next_response_breached",
    "sla_resolution_breached",
)
DRAFT_SUMS = (
    "total",
    "approved_unedited",
    "edited",
    "rejected",
    "rewritten",
    "auto_sent",
    "superseded",
    "pending",
    "rewritten_by_hand",
    "edit_distance_total",
    "with_usage",
    "prompt_tokens",
    "completion_tokens",
    "with_cost",
)
ACTION_SUMS = (
    "actions",
    "approvals",
    "edits",
    "rejections",
    "escalations",
    "replies",
    "notes",
    "solves",
    "timed_actions",
    "handle_seconds_total",
    "first_touches",
    "returns_day",
    "returns_week",
)
FACTS = ("metric_ticket_facts", "metric_draft_facts", "metric_action_facts")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _rollup(table: str, sums: tuple[str, ...], *extra: sa.Column[float]) -> None:
    op.create_table(
        table,
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("week", sa.String(10), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in sums),
        *extra,
        sa.PrimaryKeyConstraint("dimension", "key", "day", name=f"pk_{table}"),
    )
    op.create_index(f"ix_{table}_day", table, ["day"])


def upgrade() -> None:
    op.create_table(
        "asker_hash_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_asker_hash_keys"),
    )
    op.create_table(
        "asker_tickets",
        sa.Column("ticket_id", sa.String(40), nullable=False),
        sa.Column("asker_key", sa.String(64), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_asker_tickets"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_asker_tickets_ticket_id_tickets",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_asker_tickets_asker_key", "asker_tickets", ["asker_key", "created_at"])
    op.add_column("self_service_answers", sa.Column("asker_key", sa.String(64), nullable=True))
    for measure in TIMINGS:
        op.add_column(
            "metric_ticket_facts",
            sa.Column(f"business_seconds_to_{measure}", sa.BigInteger(), nullable=True),
        )
    op.add_column(
        "metric_ticket_facts",
        sa.Column("config_tag", sa.String(16), nullable=False, server_default=""),
    )
    op.create_index("ix_metric_ticket_facts_config_tag", "metric_ticket_facts", ["config_tag"])
    op.add_column("metric_draft_facts", sa.Column("cost", sa.Double(), nullable=True))
    for column in ("prev_ticket_at", "prev_agent_at"):
        op.add_column("metric_action_facts", sa.Column(column, _ts(), nullable=True))
        op.create_index(f"ix_metric_action_facts_{column}", "metric_action_facts", [column])
    for table in FACTS:
        op.create_index(f"ix_{table}_day", table, ["day"])
    _rollup("metric_ticket_daily", TICKET_SUMS)
    _rollup("metric_draft_daily", DRAFT_SUMS, sa.Column("cost", sa.Double(), nullable=True))
    _rollup("metric_action_daily", ACTION_SUMS)
    op.create_table(
        "metric_timing_histogram",
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("measure", sa.String(40), nullable=False),
        sa.Column("tickets", sa.BigInteger(), nullable=False),
        sa.Column("max_seconds", sa.BigInteger(), nullable=False),
        sa.Column("counts", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint(
            "dimension", "week", "key", "measure", name="pk_metric_timing_histogram"
        ),
    )
    op.create_table(
        "metric_timing_percentiles",
        sa.Column("grain", sa.String(4), nullable=False),
        sa.Column("start", sa.String(10), nullable=False),
        sa.Column("measure", sa.String(40), nullable=False),
        sa.Column("week", sa.String(10), nullable=False),
        *(
            sa.Column(name, sa.BigInteger(), nullable=False)
            for name in ("tickets", "p50_seconds", "p90_seconds", "p95_seconds", "max_seconds")
        ),
        sa.PrimaryKeyConstraint("grain", "start", "measure", name="pk_metric_timing_percentiles"),
    )
    op.create_index("ix_metric_ticket_facts_week", "metric_ticket_facts", ["week"])
    create_views(op.execute, op.get_bind().dialect.name)
    # Facts copied before this revision have no rollups and no business timings: the
    # refresher recomputes every ticket whose tag differs (an empty tag never matches).
    op.execute("UPDATE metric_ticket_facts SET config_tag = '-'")


def downgrade() -> None:
    drop_views(op.execute, op.get_bind().dialect.name)
    op.drop_index("ix_metric_ticket_facts_week", table_name="metric_ticket_facts")
    tables = (
        "metric_timing_percentiles",
        "metric_timing_histogram",
        "metric_action_daily",
        "metric_draft_daily",
    )
    for table in (*tables, "metric_ticket_daily"):
        op.drop_table(table)
    for table in FACTS:
        op.drop_index(f"ix_{table}_day", table_name=table)
    op.drop_index("ix_metric_ticket_facts_config_tag", table_name="metric_ticket_facts")
    for column in ("prev_ticket_at", "prev_agent_at"):
        op.drop_index(f"ix_metric_action_facts_{column}", table_name="metric_action_facts")
    with op.batch_alter_table("metric_action_facts") as batch:
        batch.drop_column("prev_ticket_at")
        batch.drop_column("prev_agent_at")
    with op.batch_alter_table("metric_draft_facts") as batch:
        batch.drop_column("cost")
    with op.batch_alter_table("metric_ticket_facts") as batch:
        batch.drop_column("config_tag")
        for measure in TIMINGS:
            batch.drop_column(f"business_seconds_to_{measure}")
    with op.batch_alter_table("self_service_answers") as batch:
        batch.drop_column("asker_key")
    op.drop_table("asker_tickets")
    op.drop_table("asker_hash_keys")
