"""A ticket's conversation as one ordered view, and what is derived from it: the
history a new draft sees and the events the SLA clocks run on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.conversations.policy import SlaPolicy
from app.conversations.sla import SlaEvent, SlaEventKind, SlaState, compute
from app.store import contacts, reviews
from app.store import conversations as store
from app.store.contacts import Contact
from app.store.conversations import LinkKind, MessageKind, TicketState
from app.store.models import Draft, ReviewEvent, Ticket
from app.triage.draft.protocol import Turn

# Drafts whose text reached (or is on its way to) the customer.
REPLIED = ("approved", "sent")
# System events that move the SLA clocks.
_SLA_EVENTS: dict[str, SlaEventKind] = {
    "awaiting_customer": "paused",
    "solved": "solved",
    "reopened": "reopened",
    "merged": "solved",
}


@dataclass(frozen=True)
class Entry:
    """One message of the conversation, whichever table it is stored in."""

    id: str
    ticket_id: str
    kind: MessageKind
    author: str | None
    text: str
    created_at: datetime
    event: str | None = None
    draft_id: str | None = None
    external_id: str | None = None

    @property
    def internal(self) -> bool:
        return self.kind == "note"


@dataclass(frozen=True)
class Conversation:
    ticket: Ticket
    state: TicketState | None
    messages: list[Entry]
    sla: SlaState
    merged_from: list[str] = field(default_factory=list)
    linked: list[tuple[str, LinkKind]] = field(default_factory=list)  # (ticket id, kind)
    # The review decisions on its drafts (approve, reject, escalate).
    events: list[ReviewEvent] = field(default_factory=list)
    # How to reach the developer (a /help hand-off): for agents' eyes only.
    contact: Contact | None = None

    @property
    def version(self) -> int:
        return self.state.version if self.state is not None else 0

    @property
    def assignee(self) -> str | None:
        return self.state.assignee if self.state is not None else None

    @property
    def merged_into(self) -> str | None:
        return self.state.merged_into if self.state is not None else None

    def customer_visible(self) -> list[Entry]:
        """What the developer may see: their messages and the replies sent to them,
        never an internal note or the agents' workflow events."""
        return [m for m in self.messages if m.kind in ("customer", "agent")]


def history_of(messages: Sequence[Entry]) -> list[Turn]:
    """What a draft is given as the conversation so far: the developer's messages and
    the replies sent to them.  Internal notes and system events are never included."""
    turns = []
    for m in messages:
        if m.kind == "customer":
            turns.append(Turn(role="user", content=m.text))
        elif m.kind == "agent":
            turns.append(Turn(role="assistant", content=m.text))
    return turns


@dataclass(frozen=True)
class DraftInput:
    """What a new draft answers: the latest customer message, the conversation before it."""

    message_id: str
    text: str
    history: list[Turn]


def draft_input(messages: Sequence[Entry]) -> DraftInput | None:
    """The latest customer message with the history before it; None without one.

    The synchronous re-draft and the drafting worker both draft from this, so a draft
    written in the request and one written in the background see the same conversation.
    """
    customer = [i for i, m in enumerate(messages) if m.kind == "customer"]
    if not customer:
        return None
    last = messages[customer[-1]]
    return DraftInput(last.id, last.text, history_of(messages[: customer[-1]]))


def sla_events(messages: Sequence[Entry], ticket_id: str) -> list[SlaEvent]:
    """The clock events of ``ticket_id``'s conversation.  Status events count only on
    their own ticket: a duplicate's ``merged`` closes the duplicate, not its target."""
    events = []
    for m in messages:
        if m.kind == "customer":
            events.append(SlaEvent(m.created_at, "customer"))
        elif m.kind == "agent":
            events.append(SlaEvent(m.created_at, "agent_reply"))
        elif m.kind == "system" and m.event in _SLA_EVENTS and m.ticket_id == ticket_id:
            events.append(SlaEvent(m.created_at, _SLA_EVENTS[m.event]))
    return events


def _entries(session: Session, ticket: Ticket, ticket_ids: list[str]) -> list[Entry]:
    stored = store.messages_of(session, ticket_ids)
    if not any(m.ticket_id == ticket.id for m in stored):
        # Not yet a conversation (no action so far): its message is message #1.
        stored.insert(0, store.first_message(ticket))
    entries = [
        Entry(
            id=m.id,
            ticket_id=m.ticket_id,
            kind=m.kind,
            author=m.author,
            text=m.text,
            created_at=m.created_at,
            event=m.event,
            draft_id=m.draft_id,
            external_id=m.external_id,
        )
        for m in stored
    ]
    # Replies approved from a pipeline draft live in `drafts` only: they are agent
    # messages of the conversation too (a handwritten reply has its own message).
    written = {m.draft_id for m in stored if m.draft_id is not None}
    drafts = session.scalars(
        select(Draft).where(Draft.ticket_id.in_(ticket_ids), Draft.status.in_(REPLIED))
    )
    for d in drafts:
        if d.id in written:
            continue
        entries.append(
            Entry(
                id=d.id,
                ticket_id=d.ticket_id,
                kind="agent",
                author=d.approved_by,
                text=d.final_text or d.text,
                created_at=d.approved_at or d.created_at,
                draft_id=d.id,
            )
        )
    entries.sort(key=lambda e: (e.created_at, e.id))
    return entries


def entries_of(session: Session, ticket: Ticket) -> list[Entry]:
    """The conversation's entries (with its merged duplicates'), oldest first."""
    return _entries(session, ticket, [ticket.id, *store.merged_from(session, ticket.id)])


def load(session: Session, ticket: Ticket, policy: SlaPolicy, now: datetime) -> Conversation:
    """The conversation of ``ticket`` (with its merged duplicates') and its SLA at ``now``."""
    merged = store.merged_from(session, ticket.id)
    entries = _entries(session, ticket, [ticket.id, *merged])
    targets = policy.for_priority(ticket.priority)
    sla = compute(targets, ticket.created_at, sla_events(entries, ticket.id), now)
    linked = [
        (link.other_id if link.ticket_id == ticket.id else link.ticket_id, link.kind)
        for link in store.links_of(session, ticket.id)
    ]
    return Conversation(
        ticket=ticket,
        state=store.state_of(session, ticket.id),
        messages=entries,
        sla=sla,
        merged_from=merged,
        linked=linked,
        events=reviews.list_events(session, ticket.id),
        contact=contact_of(session, ticket.id),
    )


def contact_of(session: Session, ticket_id: str) -> Contact | None:
    """The ticket's own contact (a duplicate merged into it keeps its developer's)."""
    row = contacts.of_ticket(session, ticket_id)
    if row is None or (row.email is None and row.name is None):
        return None
    return Contact(email=row.email, name=row.name)


def store_sla(state: TicketState, sla: SlaState) -> None:
    """Keep the clocks on the state row, where the queue can sort and filter on them."""
    state.sla_first_response_due = sla.first_response.due
    state.sla_next_response_due = sla.next_response.due if sla.next_response else None
    state.sla_resolution_due = sla.resolution.due
    state.sla_next_due = sla.next_due
    state.sla_breached = sla.breached
    state.sla_first_response_breached = sla.first_response.breached
    state.sla_next_response_breached = sla.next_response is not None and sla.next_response.breached
    state.sla_resolution_breached = sla.resolution.breached
    state.sla_paused = sla.paused
