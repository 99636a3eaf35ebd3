"""The review service's tables (SQLAlchemy 2.0 declarative).

The schema itself is owned by the Alembic migrations in ``migrations/versions``; these
classes must match them (a test compares the two).  Status columns are plain strings
guarded by CHECK constraints rather than native enums, so adding a state is a one-line
migration on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.store.columns import UTCDateTime, json_type, utcnow
from app.store.ids import new_id

TicketStatus = Literal[
    "drafting",
    "pending_review",
    "approved",
    "sent",
    "rejected",
    "escalated",
    # The conversation's own states (app/conversations): closed by an agent, or waiting
    # on the developer (SLA clocks paused).  A customer follow-up reopens either.
    "solved",
    "awaiting_customer",
]
DraftStatus = Literal["pending", "approved", "sent", "rejected", "superseded"]
ReviewAction = Literal["approve", "edit", "reject", "escalate", "reassign"]
RejectReason = Literal["inaccurate", "incomplete", "wrong_tone", "policy", "duplicate", "other"]
OutboxStatus = Literal["pending", "sending", "sent", "failed"]
IdempotencyState = Literal["in_flight", "done"]
SlackEventOutcome = Literal["ticket", "refused"]
Role = Literal["agent", "admin", "integration"]
AnswerStatus = Literal["active", "retired"]

TICKET_STATUSES: tuple[TicketStatus, ...] = get_args(TicketStatus)
DRAFT_STATUSES: tuple[DraftStatus, ...] = get_args(DraftStatus)
REVIEW_ACTIONS: tuple[ReviewAction, ...] = get_args(ReviewAction)
REJECT_REASONS: tuple[RejectReason, ...] = get_args(RejectReason)
OUTBOX_STATUSES: tuple[OutboxStatus, ...] = get_args(OutboxStatus)
IDEMPOTENCY_STATES: tuple[IdempotencyState, ...] = get_args(IdempotencyState)
SLACK_EVENT_OUTCOMES: tuple[SlackEventOutcome, ...] = get_args(SlackEventOutcome)
ROLES: tuple[Role, ...] = get_args(Role)
ANSWER_STATUSES: tuple[AnswerStatus, ...] = get_args(AnswerStatus)

# Priorities sort as strings, so "P1" < "P2" < … is also the queue order.
DEFAULT_PRIORITY = "P3"

ID_LEN = 40

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL for a CHECK that a column holds one of ``values`` (also used by the migration)."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(one_of("status", TICKET_STATUSES), name="status"),
        # The review queue: filter by status, order by priority then age; id breaks ties
        # so the keyset cursor is total.
        Index("ix_tickets_queue", "status", "priority", "created_at", "id"),
        Index("ix_tickets_category", "category"),
        Index("ix_tickets_team", "team"),
        Index("ix_tickets_external_ref", "external_ref"),
        # Every metric view's date range; stale metric facts (migration 0007).
        Index("ix_tickets_created_at", "created_at"),
        Index("ix_tickets_updated_at", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, default=lambda: new_id("tkt"))
    channel: Mapped[str] = mapped_column(String(32))
    reporter: Mapped[str | None] = mapped_column(String(320))
    # Already redacted by the triage pipeline: the store never sees a raw secret.
    message: Mapped[str] = mapped_column(Text)
    # "metadata" is reserved on declarative classes, hence the attribute name.
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", json_type())
    triage: Mapped[dict[str, Any]] = mapped_column(json_type())
    signals: Mapped[dict[str, Any]] = mapped_column(json_type())
    redactions: Mapped[list[dict[str, Any]]] = mapped_column(json_type())
    # Current routing.  Copied from `triage` at creation, then changed by escalation,
    # while `triage` keeps what the classifier said.
    category: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(8))
    team: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[TicketStatus] = mapped_column(String(20))
    external_ref: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The API token that created the ticket (None: Slack, the widget, the store itself);
    # an integration token reads only the tickets it created.
    created_by: Mapped[str | None] = mapped_column(String(ID_LEN))
    # The drafting worker holding the ticket while it is ``drafting``, until the lease
    # ends (see draft_leases.py); then another worker may take it over.
    draft_worker: Mapped[str | None] = mapped_column(String(200))
    draft_leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    drafts: Mapped[list[Draft]] = relationship(
        back_populates="ticket", order_by="Draft.version", passive_deletes=True
    )

    @property
    def latest_draft(self) -> Draft | None:
        return max(self.drafts, key=lambda d: d.version, default=None)

    @property
    def pending_draft(self) -> Draft | None:
        return next((d for d in self.drafts if d.status == "pending"), None)


class Draft(Base):
    __tablename__ = "drafts"
    __table_args__ = (
        CheckConstraint(one_of("status", DRAFT_STATUSES), name="status"),
        CheckConstraint("version >= 1", name="version_positive"),
        UniqueConstraint("ticket_id", "version"),
        # Drafts written in a date range (the metric views, migration 0007).
        Index("ix_drafts_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, default=lambda: new_id("drf"))
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(json_type())
    confidence: Mapped[float] = mapped_column(Float)
    needs_human: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    # prompt id/version/hash, model, token counts: enough to reproduce or audit a draft.
    provenance: Mapped[dict[str, Any]] = mapped_column(json_type())
    status: Mapped[DraftStatus] = mapped_column(String(16))
    # What is actually sent: the draft text, or the reviewer's edit of it.
    final_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    ticket: Mapped[Ticket] = relationship(back_populates="drafts")


class ReviewEvent(Base):
    __tablename__ = "review_events"
    __table_args__ = (
        CheckConstraint(one_of("action", REVIEW_ACTIONS), name="action"),
        CheckConstraint(
            "reason_code IS NULL OR " + one_of("reason_code", REJECT_REASONS), name="reason_code"
        ),
        Index("ix_review_events_ticket_id", "ticket_id", "created_at"),
        # A draft's outcome in the metric views (migration 0007).
        Index("ix_review_events_draft_id", "draft_id"),
        Index("ix_review_events_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, default=lambda: new_id("rev"))
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    draft_id: Mapped[str | None] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    action: Mapped[ReviewAction] = mapped_column(String(16))
    reviewer: Mapped[str] = mapped_column(String(200))
    reason_code: Mapped[RejectReason | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    # Levenshtein distance draft text → final text: how much agents rewrite drafts.
    edit_distance: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_ticket_id", "ticket_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, default=lambda: new_id("aud"))
    # Null for changes that are not about one ticket (token issue/revoke).
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(json_type())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(one_of("status", OUTBOX_STATUSES), name="status"),
        # One send per approved draft, whatever races happen above it.
        UniqueConstraint("draft_id"),
        Index("ix_outbox_claim", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, default=lambda: new_id("obx"))
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    draft_id: Mapped[str] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(json_type())
    status: Mapped[OutboxStatus] = mapped_column(String(16))
    # Counted at claim time, so a worker that dies mid-send still uses up an attempt.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        CheckConstraint(one_of("state", IDEMPOTENCY_STATES), name="state"),
        UniqueConstraint("scope", "key"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, default=lambda: new_id("idk"))
    # Route + principal: the same key from two tokens, or on two routes, never collides.
    scope: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[IdempotencyState] = mapped_column(String(16))
    response_status: Mapped[int | None] = mapped_column(Integer)
    # Bytes, not JSON: a replay must be byte-identical to the first response.
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_content_type: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The attempt that holds an in-flight key, until ``lease_until``; after that a retry
    # takes the key over and the old attempt can no longer store its response.
    holder: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint(one_of("role", ROLES), name="role"),
        UniqueConstraint("token_hash"),
        # The name is half of the audit actor, so two tokens never share one.
        UniqueConstraint("name"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, default=lambda: new_id("tok"))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(String(16))
    # sha256 hex of the secret; see api_tokens.py for why a fast hash is the right one here.
    token_hash: Mapped[str] = mapped_column(String(64))
    # The first characters of the plaintext, so an admin can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SlackEvent(Base):
    """One Slack message handled, whichever process received it: the unique keys make
    a second delivery (a retry, the same message as ``message`` and ``app_mention``, a
    second API process) a no-op inside the ticket's own transaction."""

    __tablename__ = "slack_events"
    __table_args__ = (
        CheckConstraint(one_of("outcome", SLACK_EVENT_OUTCOMES), name="outcome"),
        UniqueConstraint("event_id"),
        UniqueConstraint("channel", "ts"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, default=lambda: new_id("sle"))
    event_id: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(64))
    ts: Mapped[str] = mapped_column(String(32))
    # None when the message was refused (a permanent error) or its ticket was deleted.
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    outcome: Mapped[SlackEventOutcome] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReusableAnswer(Base):
    """An agent-approved reply kept for reuse on questions that paraphrase its own.

    ``citations`` hold, per quote, the doc revision (``doc_hash``) it was checked
    against; a sync that removes a quoted text retires the answer (app/answers/).
    """

    __tablename__ = "reusable_answers"
    __table_args__ = (
        CheckConstraint(one_of("status", ANSWER_STATUSES), name="status"),
        # One reusable answer per approved draft, however often learning is retried.
        UniqueConstraint("source_draft_id"),
        Index("ix_reusable_answers_collection_status", "collection", "status"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, default=lambda: new_id("ans"))
    # The docs collection its citations quote (answers of another collection are never
    # re-verified against it).
    collection: Mapped[str] = mapped_column(String(200))
    # The customer's message as stored: already redacted.
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(json_type())
    language: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[AnswerStatus] = mapped_column(String(16))
    edited: Mapped[bool] = mapped_column(Boolean)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    source_ticket_id: Mapped[str | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL")
    )
    source_draft_id: Mapped[str | None] = mapped_column(
        ForeignKey("drafts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retired_reason: Mapped[str | None] = mapped_column(Text)
