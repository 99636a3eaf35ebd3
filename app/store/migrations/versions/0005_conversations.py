"""Conversations: a ticket's messages, workflow state, links and corrections.

Revision ID: 0005_conversations
Revises: 0004_draft_lease
Create Date: 2026-12-06

- ``ticket_messages``: the ordered conversation (customer, agent, note, system), unique
  by ticket + position and by ticket + external id (a redelivered follow-up is stored
  once).  Every existing ticket's message becomes its message #1.
- ``ticket_states``: one row per ticket: the compare-and-set version, the assignee, the
  ticket a duplicate was merged into, and the stored SLA clocks.
- ``ticket_links`` (tickets of one incident) and ``ticket_corrections`` (predicted vs
  final category/priority).
- ``tickets.status`` may also be ``solved`` or ``awaiting_customer``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_conversations"
down_revision: str | None = "0004_draft_lease"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(40)
OLD_STATUSES = ("drafting", "pending_review", "approved", "sent", "rejected", "escalated")
NEW_STATUSES = (*OLD_STATUSES, "solved", "awaiting_customer")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.JSON:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _ticket_fk(column: str, table: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["tickets.id"], name=f"fk_{table}_{column}_tickets", ondelete=ondelete
    )


def _set_statuses(statuses: Sequence[str]) -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint("ck_tickets_status", type_="check")
        batch.create_check_constraint("ck_tickets_status", _one_of("status", statuses))


def _create_tables() -> None:
    op.create_table(
        "ticket_messages",
        sa.Column("id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("author", sa.String(320), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("redactions", _json(), nullable=False),
        sa.Column("event", sa.String(32), nullable=True),
        sa.Column("draft_id", ID, nullable=True),
        sa.Column("external_id", sa.String(255), nullable=True),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_messages"),
        _ticket_fk("ticket_id", "ticket_messages"),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["drafts.id"],
            name="fk_ticket_messages_draft_id_drafts",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("ticket_id", "seq", name="uq_ticket_messages_ticket_id_seq"),
        sa.UniqueConstraint(
            "ticket_id", "external_id", name="uq_ticket_messages_ticket_id_external_id"
        ),
        sa.CheckConstraint(
            _one_of("kind", ("customer", "agent", "note", "system")),
            name="ck_ticket_messages_kind",
        ),
        sa.CheckConstraint("seq >= 1", name="ck_ticket_messages_seq_positive"),
    )
    op.create_table(
        "ticket_states",
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("merged_into", ID, nullable=True),
        sa.Column("sla_first_response_due", _ts(), nullable=True),
        sa.Column("sla_next_response_due", _ts(), nullable=True),
        sa.Column("sla_resolution_due", _ts(), nullable=True),
        sa.Column("sla_next_due", _ts(), nullable=True),
        sa.Column("sla_breached", sa.Boolean(), nullable=False),
        sa.Column("sla_paused", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_ticket_states"),
        _ticket_fk("ticket_id", "ticket_states"),
        _ticket_fk("merged_into", "ticket_states", ondelete="SET NULL"),
        sa.CheckConstraint("version >= 0", name="ck_ticket_states_version_positive"),
    )
    op.create_index("ix_ticket_states_assignee", "ticket_states", ["assignee"])
    op.create_index("ix_ticket_states_sla", "ticket_states", ["sla_breached", "sla_next_due"])
    op.create_table(
        "ticket_links",
        sa.Column("id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("other_id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_links"),
        _ticket_fk("ticket_id", "ticket_links"),
        _ticket_fk("other_id", "ticket_links"),
        sa.UniqueConstraint("ticket_id", "other_id", name="uq_ticket_links_ticket_id_other_id"),
        sa.CheckConstraint(_one_of("kind", ("incident", "related")), name="ck_ticket_links_kind"),
        sa.CheckConstraint("ticket_id < other_id", name="ck_ticket_links_ordered_pair"),
    )
    op.create_index("ix_ticket_links_other_id", "ticket_links", ["other_id"])
    op.create_table(
        "ticket_corrections",
        sa.Column("id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("field", sa.String(16), nullable=False),
        sa.Column("predicted", sa.String(64), nullable=True),
        sa.Column("previous", sa.String(64), nullable=True),
        sa.Column("final", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_corrections"),
        _ticket_fk("ticket_id", "ticket_corrections"),
        sa.CheckConstraint(
            _one_of("field", ("category", "priority")), name="ck_ticket_corrections_field"
        ),
    )
    op.create_index(
        "ix_ticket_corrections_ticket_id", "ticket_corrections", ["ticket_id", "created_at"]
    )


def _backfill() -> None:
    """Each existing ticket's message becomes its message #1 (already redacted: the
    ticket's own redactions come along), and every ticket gets its state row."""
    op.execute(
        "INSERT INTO ticket_messages (id, ticket_id, seq, kind, author, text, redactions, "
        "event, draft_id, external_id, metadata, created_at) "
        "SELECT 'msg_' || id, id, 1, 'customer', reporter, message, redactions, "
        "NULL, NULL, NULL, '{}', created_at FROM tickets"
    )
    op.execute(
        "INSERT INTO ticket_states (ticket_id, version, sla_breached, sla_paused, updated_at) "
        "SELECT id, 0, FALSE, FALSE, updated_at FROM tickets"
    )


def upgrade() -> None:
    _set_statuses(NEW_STATUSES)
    _create_tables()
    _backfill()


def downgrade() -> None:
    op.drop_table("ticket_corrections")
    op.drop_table("ticket_links")
    op.drop_table("ticket_states")
    op.drop_table("ticket_messages")
    # The older schema has no solved/awaiting states: their replies were sent.
    op.execute("UPDATE tickets SET status = 'sent' WHERE status IN ('solved', 'awaiting_customer')")
    _set_statuses(OLD_STATUSES)
