"""Initial review-store schema.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-21

Values are spelled out here rather than imported from ``app.store.models``: a
migration describes the schema as it was at this revision, whatever the models say later.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(40)


def _json() -> sa.JSON:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _one_of(column: str, *values: str) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", ID, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("reporter", sa.String(320), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("triage", _json(), nullable=False),
        sa.Column("signals", _json(), nullable=False),
        sa.Column("redactions", _json(), nullable=False),
        sa.Column("category", sa.String(64), nullable=True),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("external_ref", sa.String(255), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
        sa.CheckConstraint(
            _one_of(
                "status", "drafting", "pending_review", "approved", "sent", "rejected", "escalated"
            ),
            name="ck_tickets_status",
        ),
    )
    op.create_index("ix_tickets_queue", "tickets", ["status", "priority", "created_at", "id"])
    op.create_index("ix_tickets_category", "tickets", ["category"])
    op.create_index("ix_tickets_team", "tickets", ["team"])
    op.create_index("ix_tickets_external_ref", "tickets", ["external_ref"])

    op.create_table(
        "drafts",
        sa.Column("id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("citations", _json(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("needs_human", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("provenance", _json(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("final_text", sa.Text(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("approved_at", _ts(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_drafts"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_drafts_ticket_id_tickets", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("ticket_id", "version", name="uq_drafts_ticket_id_version"),
        sa.CheckConstraint(
            _one_of("status", "pending", "approved", "sent", "rejected", "superseded"),
            name="ck_drafts_status",
        ),
        sa.CheckConstraint("version >= 1", name="ck_drafts_version_positive"),
    )

    op.create_table(
        "review_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("draft_id", ID, nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("reason_code", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("edit_distance", sa.Integer(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_review_events"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_review_events_ticket_id_tickets",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["drafts.id"], name="fk_review_events_draft_id_drafts", ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            _one_of("action", "approve", "edit", "reject", "escalate", "reassign"),
            name="ck_review_events_action",
        ),
        sa.CheckConstraint(
            "reason_code IS NULL OR "
            + _one_of(
                "reason_code",
                "inaccurate",
                "incomplete",
                "wrong_tone",
                "policy",
                "duplicate",
                "other",
            ),
            name="ck_review_events_reason_code",
        ),
    )
    op.create_index("ix_review_events_ticket_id", "review_events", ["ticket_id", "created_at"])

    op.create_table(
        "audit_log",
        sa.Column("id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=True),
        sa.Column("detail", _json(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_audit_log_ticket_id_tickets", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_audit_log_ticket_id", "audit_log", ["ticket_id", "created_at"])

    op.create_table(
        "outbox",
        sa.Column("id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("draft_id", ID, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _ts(), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("claimed_at", _ts(), nullable=True),
        sa.Column("sent_at", _ts(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_outbox_ticket_id_tickets", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["drafts.id"], name="fk_outbox_draft_id_drafts", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("draft_id", name="uq_outbox_draft_id"),
        sa.CheckConstraint(
            _one_of("status", "pending", "sending", "sent", "failed"), name="ck_outbox_status"
        ),
    )
    op.create_index("ix_outbox_claim", "outbox", ["status", "next_attempt_at"])

    op.create_table(
        "idempotency_keys",
        sa.Column("id", ID, nullable=False),
        sa.Column("scope", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("response_content_type", sa.String(100), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("completed_at", _ts(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_keys"),
        sa.UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),
        sa.CheckConstraint(_one_of("state", "in_flight", "done"), name="ck_idempotency_keys_state"),
    )

    op.create_table(
        "api_tokens",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("revoked_at", _ts(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        sa.CheckConstraint(
            _one_of("role", "agent", "admin", "integration"), name="ck_api_tokens_role"
        ),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_outbox_claim", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_audit_log_ticket_id", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_review_events_ticket_id", table_name="review_events")
    op.drop_table("review_events")
    op.drop_table("drafts")
    op.drop_index("ix_tickets_external_ref", table_name="tickets")
    op.drop_index("ix_tickets_team", table_name="tickets")
    op.drop_index("ix_tickets_category", table_name="tickets")
    op.drop_index("ix_tickets_queue", table_name="tickets")
    op.drop_table("tickets")
