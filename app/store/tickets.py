"""Tickets and their drafts: creation, re-drafting, lookup, and the review queue's query.

The queue's order, filters, page size and keyset cursor live here; its one read path,
which writes the page's JSON directly, is services/review_queue.py.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, select, tuple_, update
from sqlalchemy.orm import Session, selectinload

from app.store import audit
from app.store.columns import utcnow
from app.store.errors import ConflictError, InvalidInputError, InvalidStateError, NotFoundError
from app.store.models import DEFAULT_PRIORITY, Draft, Ticket, TicketStatus
from app.store.transitions import move_ticket

# A ticket can start waiting for its draft, already drafted, or straight with a human
# (screening flagged it); every other status is reached through a review action.
CREATE_STATUSES: frozenset[TicketStatus] = frozenset({"drafting", "pending_review", "escalated"})
# Once a reply is approved it is on its way out; a new draft must not replace it.
CLOSED_STATUSES: frozenset[TicketStatus] = frozenset({"approved", "sent"})

MAX_PAGE = 200
# priority: P1 first, then oldest first.  due: the soonest SLA due time first (tickets
# without a running clock last), then as by priority.
QueueSort = Literal["priority", "due"]
QUEUE_SORTS: tuple[QueueSort, ...] = get_args(QueueSort)
# Where a ticket without a due time sorts (and what its cursor holds): after every real one.
NO_DUE = datetime(9999, 12, 31, tzinfo=UTC)


def _routing(triage: Mapping[str, Any], key: str) -> str | None:
    value = triage.get(key)
    return value if isinstance(value, str) and value else None


def create_ticket(
    session: Session,
    *,
    channel: str,
    reporter: str | None,
    message: str,
    metadata: Mapping[str, Any] | None = None,
    triage: Mapping[str, Any] | None = None,
    signals: Mapping[str, Any] | None = None,
    redactions: Sequence[Mapping[str, Any]] = (),
    status: TicketStatus = "drafting",
    external_ref: str | None = None,
    actor: str = "system",
    created_by: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Store a screened ticket; ``message`` must already be redacted.  ``created_by`` is
    the creating API token's id (None for Slack, the widget and internal callers)."""
    if status not in CREATE_STATUSES:
        raise InvalidInputError(
            f"a ticket cannot be created as {status!r}; use one of {sorted(CREATE_STATUSES)}"
        )
    now = now or utcnow()
    triage = dict(triage or {})
    ticket = Ticket(
        channel=channel,
        reporter=reporter,
        message=message,
        meta=dict(metadata or {}),
        triage=triage,
        signals=dict(signals or {}),
        redactions=[dict(r) for r in redactions],
        category=_routing(triage, "category"),
        priority=_routing(triage, "priority") or DEFAULT_PRIORITY,
        team=_routing(triage, "team"),
        status=status,
        external_ref=external_ref,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    audit.record(
        session,
        ticket_id=ticket.id,
        actor=actor,
        action="ticket_created",
        to_status=status,
        detail={"channel": channel, "priority": ticket.priority, "category": ticket.category},
        now=now,
    )
    session.flush()
    return ticket


def lock_ticket(session: Session, ticket_id: str) -> Ticket:
    """Load a ticket, row-locked until commit on PostgreSQL (SQLite ignores FOR UPDATE).

    Every writer locks the ticket before touching its drafts; with one lock order two
    writers (a re-draft and an approval) queue instead of deadlocking.
    """
    ticket = session.scalars(
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if ticket is None:
        raise NotFoundError(f"ticket {ticket_id} not found")
    return ticket


def add_draft(
    session: Session,
    ticket_id: str,
    *,
    text: str,
    citations: Sequence[Mapping[str, Any]] = (),
    confidence: float,
    needs_human: bool,
    reason: str | None = None,
    provenance: Mapping[str, Any] | None = None,
    actor: str = "system",
    now: datetime | None = None,
) -> Draft:
    """Add the next version of the ticket's reply; earlier pending versions are superseded.

    The ticket moves to ``pending_review`` (an escalated ticket stays escalated, so it
    remains with the team it was handed to).
    """
    now = now or utcnow()
    ticket = lock_ticket(session, ticket_id)
    if ticket.status in CLOSED_STATUSES:
        raise InvalidStateError(
            f"ticket {ticket_id} is {ticket.status}: its reply is already approved, "
            "so a new draft cannot replace it"
        )
    from_status = ticket.status
    to_status: TicketStatus = "escalated" if from_status == "escalated" else "pending_review"
    # The ticket update goes first: it takes the row (PostgreSQL) or database (SQLite)
    # write lock, so the version read below cannot race another writer.
    if not move_ticket(session, ticket_id, expected=from_status, to=to_status, now=now):
        raise ConflictError(f"ticket {ticket_id} changed while a draft was being added; retry")

    previous = session.scalar(select(func.max(Draft.version)).where(Draft.ticket_id == ticket_id))
    superseded = list(
        session.scalars(
            update(Draft)
            .where(Draft.ticket_id == ticket_id, Draft.status == "pending")
            .values(status="superseded")
            .returning(Draft.id)
        )
    )
    draft = Draft(
        ticket=ticket,
        version=(previous or 0) + 1,
        text=text,
        citations=[dict(c) for c in citations],
        confidence=confidence,
        needs_human=needs_human,
        reason=reason,
        provenance=dict(provenance or {}),
        status="pending",
        created_at=now,
    )
    session.add(draft)
    session.flush()
    audit.record(
        session,
        ticket_id=ticket_id,
        actor=actor,
        action="draft_added",
        from_status=from_status,
        to_status=to_status,
        detail={"draft_id": draft.id, "version": draft.version, "superseded": superseded},
        now=now,
    )
    session.flush()
    return draft


def get_ticket(session: Session, ticket_id: str) -> Ticket:
    """The ticket with its drafts loaded (oldest version first)."""
    ticket = session.scalars(
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .options(selectinload(Ticket.drafts))
        .execution_options(populate_existing=True)
    ).one_or_none()
    if ticket is None:
        raise NotFoundError(f"ticket {ticket_id} not found")
    return ticket


def get_draft(session: Session, draft_id: str) -> Draft:
    draft = session.get(Draft, draft_id, populate_existing=True)
    if draft is None:
        raise NotFoundError(f"draft {draft_id} not found")
    return draft


def _encode(values: list[Any]) -> str:
    raw = json.dumps(values)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInputError("invalid queue cursor; start again without one") from exc
    if not isinstance(values, list):
        raise InvalidInputError("invalid queue cursor; start again without one")
    return values


def _when(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not a timestamp")
    when = datetime.fromisoformat(value)
    if when.tzinfo is None:
        raise ValueError("a naive timestamp")
    return when


def encode_cursor(ticket: Ticket, due: datetime | None = None) -> str:
    """The keyset position after ``ticket``; with ``due`` (its due time, or ``NO_DUE``),
    in the due-time order."""
    key = [ticket.priority, ticket.created_at.isoformat(), ticket.id]
    return _encode(key if due is None else ["due", due.isoformat(), *key])


def decode_cursor(cursor: str, sort: QueueSort = "priority") -> tuple[Any, ...]:
    """(priority, created_at, id), or with ``sort="due"`` (due, priority, created_at, id);
    a cursor of the other order, or malformed, is an InvalidInputError."""
    values = _decode(cursor)
    try:
        if sort == "due":
            tag, due, priority, created_at, ticket_id = values
            if tag != "due":
                raise ValueError("not a due-time cursor")
            head: tuple[Any, ...] = (_when(due),)
        else:
            priority, created_at, ticket_id = values
            head = ()
        if not (isinstance(priority, str) and isinstance(ticket_id, str)):
            raise ValueError("wrong field types")
        return (*head, priority, _when(created_at), ticket_id)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError("invalid queue cursor; start again without one") from exc


@dataclass(frozen=True)
class QueueQuery:
    """Which page of the review queue: filters, page size and the keyset cursor."""

    status: TicketStatus | None = "pending_review"
    category: str | None = None
    priority: str | None = None
    team: str | None = None
    limit: int = 50
    cursor: str | None = None
    sort: QueueSort = "priority"


QUEUE_FILTERS = ("status", "category", "priority", "team")


def queue_params(query: QueueQuery) -> tuple[dict[str, Any], int]:
    """The values a queue page binds (named as `page_statement` expects), and its size.

    One row more than the page is fetched, so the caller knows whether a next page
    exists.  A bad limit or cursor raises `InvalidInputError`.
    """
    if query.limit < 1:
        raise InvalidInputError("limit must be at least 1")
    limit = min(query.limit, MAX_PAGE)
    params: dict[str, Any] = {"page_rows": limit + 1}
    for name in QUEUE_FILTERS:
        value = getattr(query, name)
        if value is not None:
            params[f"queue_{name}"] = value
    if query.cursor is not None:
        after = decode_cursor(query.cursor, query.sort)
        names: tuple[str, ...] = ("after_priority", "after_created", "after_id")
        if query.sort == "due":
            names = ("after_due", *names)
        params.update(zip(names, after, strict=True))
    return params, limit


def page_statement(
    stmt: Select[Any], bound: Collection[str], due: ColumnElement[datetime] | None = None
) -> Select[Any]:
    """Filters, keyset position and order of a queue page binding the parameters named
    in `bound` (the keys `queue_params` gave); with ``due`` (each row's due time, never
    null: ``NO_DUE`` stands in) in the due-time order.

    Keyset pagination on (priority, created_at, id): a ticket inserted while an agent
    pages never shifts the pages after it, so nothing is shown twice or skipped; it
    appears on a later page if it sorts after the cursor.  The statement depends only on
    which parameters are bound, not their values, so a hot caller can build each shape
    once (``queue_page_json`` does).
    """
    for name in QUEUE_FILTERS:
        if f"queue_{name}" in bound:
            stmt = stmt.where(getattr(Ticket, name) == bindparam(f"queue_{name}"))
    order: list[Any] = [Ticket.priority, Ticket.created_at, Ticket.id]
    if due is not None:
        order.insert(0, due)
    if "after_id" in bound:
        after: list[Any] = [
            bindparam("after_priority", type_=Ticket.priority.type),
            bindparam("after_created", type_=Ticket.created_at.type),
            bindparam("after_id", type_=Ticket.id.type),
        ]
        if due is not None:
            after.insert(0, bindparam("after_due", type_=Ticket.created_at.type))
        # A row-value comparison, not the equivalent OR of ANDs: PostgreSQL and SQLite
        # turn it into a range on ix_tickets_queue, so a deep page starts where the
        # cursor points instead of filtering every row before it.
        stmt = stmt.where(tuple_(*order) > tuple_(*after))
    stmt = stmt.order_by(*order)
    return stmt.limit(bindparam("page_rows", type_=Integer))
