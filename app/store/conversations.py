"""A ticket's conversation: its messages, its workflow state, links and corrections.

Tables on the store's declarative ``Base`` (so the migrations test compares them too);
the schema is owned by migration ``0005_conversations``.  Drafts stay in ``drafts``: the
conversation view interleaves them by time.  Every text here is stored redacted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.columns import UTCDateTime, json_type, utcnow
from app.store.errors import NotFoundError
from app.store.ids import new_id
from app.store.models import ID_LEN, ApiToken, Base, Ticket, one_of
from app.store.tickets import get_ticket

# customer: the developer; agent: a reply sent to them; note: internal, never sent or
# shown to the customer, never fed to a draft; system: a workflow event (solved, merged…).
MessageKind = Literal["customer", "agent", "note", "system"]
CorrectionField = Literal["category", "priority"]
LinkKind = Literal["incident", "related"]

MESSAGE_KINDS: tuple[MessageKind, ...] = get_args(MessageKind)
CORRECTION_FIELDS: tuple[CorrectionField, ...] = get_args(CorrectionField)
LINK_KINDS: tuple[LinkKind, ...] = get_args(LinkKind)


class TicketMessage(Base):
    __tablename__ = "ticket_messages"
    __table_args__ = (
        CheckConstraint(one_of("kind", MESSAGE_KINDS), name="kind"),
        CheckConstraint("seq >= 1", name="seq_positive"),
        # The conversation's order: one position per message.
        UniqueConstraint("ticket_id", "seq"),
        # Exactly-once intake: a redelivered follow-up (same Slack ts, same integration
        # id) hits this constraint instead of being stored twice.
        UniqueConstraint("ticket_id", "external_id"),
        # Agent activity in a date range (the metric views, migration 0007).
        Index("ix_ticket_messages_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, default=lambda: new_id("msg"))
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[MessageKind] = mapped_column(String(16))
    # Who: the reporter for a customer message, the agent's actor string otherwise.
    author: Mapped[str | None] = mapped_column(String(320))
    # Redacted like the ticket's message: the original of a secret is never stored.
    text: Mapped[str] = mapped_column(Text)
    redactions: Mapped[list[dict[str, Any]]] = mapped_column(json_type())
    # A system event's name (solved, reopened, assigned, merged, …); None for others.
    event: Mapped[str | None] = mapped_column(String(32))
    # The outbox reply an agent message was sent as (a draft written by the agent).
    draft_id: Mapped[str | None] = mapped_column(ForeignKey("drafts.id", ondelete="SET NULL"))
    external_id: Mapped[str | None] = mapped_column(String(255))
    # The follow-up's own triage, or an event's details.
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", json_type())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TicketState(Base):
    """One row per ticket: the workflow fields the review tables do not hold.

    ``version`` is the compare-and-set counter every agent action bumps; the ``sla_*``
    columns are recomputed on each event (app/conversations/sla.py) and stored so the
    queue can sort and filter on them.
    """

    __tablename__ = "ticket_states"
    __table_args__ = (
        CheckConstraint("version >= 0", name="version_positive"),
        Index("ix_ticket_states_assignee", "assignee"),
        Index("ix_ticket_states_sla", "sla_breached", "sla_next_due"),
        # Stale metric facts (app/operations/metrics/refresh.py, migration 0007).
        Index("ix_ticket_states_updated_at", "updated_at"),
    )

    ticket_id: Mapped[str] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, default=0)
    assignee: Mapped[str | None] = mapped_column(String(200))
    # A merged duplicate points at the ticket that now carries its conversation.
    merged_into: Mapped[str | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    sla_first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_next_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The earliest of the open clocks' due times: what the queue sorts by.
    sla_next_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    # Each clock's own breach (migration 0007), for attainment per clock in the metrics.
    sla_first_response_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    sla_next_response_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    sla_resolution_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    sla_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TicketLink(Base):
    """Two tickets about one incident (or otherwise related); stored once per pair."""

    __tablename__ = "ticket_links"
    __table_args__ = (
        CheckConstraint(one_of("kind", LINK_KINDS), name="kind"),
        CheckConstraint("ticket_id < other_id", name="ordered_pair"),
        UniqueConstraint("ticket_id", "other_id"),
        Index("ix_ticket_links_other_id", "other_id"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, default=lambda: new_id("lnk"))
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    other_id: Mapped[str] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[LinkKind] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TicketCorrection(Base):
    """An agent's correction of the classifier: predicted vs final, for evaluation."""

    __tablename__ = "ticket_corrections"
    __table_args__ = (
        CheckConstraint(one_of("field", CORRECTION_FIELDS), name="field"),
        Index("ix_ticket_corrections_ticket_id", "ticket_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, default=lambda: new_id("cor"))
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    field: Mapped[CorrectionField] = mapped_column(String(16))
    # What the classifier said at intake, what the ticket had before, what the agent chose.
    predicted: Mapped[str | None] = mapped_column(String(64))
    previous: Mapped[str | None] = mapped_column(String(64))
    final: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# -- store operations (callers own the transaction; see app/store/__init__.py) ---------


def lock_for_update(session: Session, ticket_id: str, *, now: datetime) -> Ticket:
    """Take the ticket's write lock, then load it with its drafts.

    The UPDATE comes first: it takes the row lock on PostgreSQL and the database write
    lock on SQLite, so everything read afterwards is the committed state that this
    transaction alone may now change (two agents taking a ticket queue here, and the
    second one sees the first one's assignee).
    """
    touched = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(updated_at=now)
        .returning(Ticket.id)
        .execution_options(synchronize_session=False)
    ).first()
    if touched is None:
        raise NotFoundError(f"ticket {ticket_id} not found")
    return get_ticket(session, ticket_id)


def state_of(session: Session, ticket_id: str) -> TicketState | None:
    return session.get(TicketState, ticket_id, populate_existing=True)


def ensure_started(session: Session, ticket: Ticket, *, now: datetime) -> TicketState:
    """The ticket's state row, created with message #1 (its message) when missing.

    Tickets are created by several paths (API, Slack, the widget); each becomes a
    conversation the first time one is needed.  Call under ``lock_for_update``.
    """
    state = state_of(session, ticket.id)
    if state is not None:
        return state
    has_messages = session.scalar(
        select(func.count()).select_from(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
    )
    if not has_messages:
        session.add(first_message(ticket))
    state = TicketState(
        ticket_id=ticket.id, version=0, sla_breached=False, sla_paused=False, updated_at=now
    )
    session.add(state)
    session.flush()
    return state


def first_message(ticket: Ticket) -> TicketMessage:
    """Message #1 as the migration writes it: the ticket's own (redacted) message."""
    return TicketMessage(
        id=f"msg_{ticket.id}"[:ID_LEN],
        ticket_id=ticket.id,
        seq=1,
        kind="customer",
        author=ticket.reporter,
        text=ticket.message,
        redactions=list(ticket.redactions),
        meta={},
        created_at=ticket.created_at,
    )


def append(
    session: Session,
    ticket_id: str,
    *,
    kind: MessageKind,
    text: str,
    author: str | None,
    now: datetime,
    redactions: Sequence[Mapping[str, Any]] = (),
    event: str | None = None,
    draft_id: str | None = None,
    external_id: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> TicketMessage:
    """Add the next message; ``text`` must already be redacted."""
    last = session.scalar(
        select(func.max(TicketMessage.seq)).where(TicketMessage.ticket_id == ticket_id)
    )
    message = TicketMessage(
        ticket_id=ticket_id,
        seq=(last or 0) + 1,
        kind=kind,
        author=author,
        text=text,
        redactions=[dict(r) for r in redactions],
        event=event,
        draft_id=draft_id,
        external_id=external_id,
        meta=dict(meta or {}),
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def by_external_id(session: Session, ticket_id: str, external_id: str) -> TicketMessage | None:
    return session.scalar(
        select(TicketMessage).where(
            TicketMessage.ticket_id == ticket_id, TicketMessage.external_id == external_id
        )
    )


def merged_from(session: Session, ticket_id: str) -> list[str]:
    """Every ticket merged into this one, directly or through another duplicate."""
    found: list[str] = []
    frontier = [ticket_id]
    while frontier:
        children = list(
            session.scalars(
                select(TicketState.ticket_id).where(TicketState.merged_into.in_(frontier))
            )
        )
        children = [c for c in children if c not in found and c != ticket_id]
        found.extend(children)
        frontier = children
    return found


def messages_of(session: Session, ticket_ids: Sequence[str]) -> list[TicketMessage]:
    """The messages of these tickets (a ticket and its merged duplicates), oldest first."""
    stmt = (
        select(TicketMessage)
        .where(TicketMessage.ticket_id.in_(ticket_ids))
        .order_by(TicketMessage.created_at, TicketMessage.seq, TicketMessage.id)
    )
    return list(session.scalars(stmt))


# Who may be assigned a ticket: a person's token, not an integration's.
ASSIGNABLE_ROLES = ("agent", "admin")


def assignable(session: Session, name: str) -> bool:
    """Whether ``name`` is an active agent or admin token (assignees are token names)."""
    found = session.scalar(
        select(ApiToken.id).where(
            ApiToken.name == name,
            ApiToken.revoked_at.is_(None),
            ApiToken.role.in_(ASSIGNABLE_ROLES),
        )
    )
    return found is not None


def links_of(session: Session, ticket_id: str) -> list[TicketLink]:
    stmt = (
        select(TicketLink)
        .where(or_(TicketLink.ticket_id == ticket_id, TicketLink.other_id == ticket_id))
        .order_by(TicketLink.created_at, TicketLink.id)
    )
    return list(session.scalars(stmt))
