"""Messages on a ticket, each in the caller's transaction: a customer follow-up, an
agent's handwritten reply or internal note, and a new draft on request.

Texts are screened for secrets here with the same redaction the pipeline applies to a
ticket's message: the original of a secret is never stored.  A reply goes out through
the outbox like an approved draft (it is stored as a draft the agent wrote and approved
at once), so it is delivered exactly once by the same machinery.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.conversations.actions import (
    REOPENABLE,
    Context,
    begin,
    current,
    event,
    finish,
    move,
)
from app.conversations.errors import TicketChanged
from app.operations.autosend.gate import AutoSendGate
from app.services.tickets import add_pipeline_draft
from app.store import conversations as store
from app.store import reviews, tickets
from app.store.conversations import TicketMessage, TicketState
from app.store.errors import InvalidInputError, InvalidStateError
from app.store.models import Draft, Ticket
from app.triage.results import AskResult
from app.triage.screen.secrets import redact_secrets

AGENT_DRAFTER = "agent"


@dataclass(frozen=True)
class Screened:
    text: str
    redactions: list[dict[str, Any]]


def screen(text: str) -> Screened:
    """A message as it may be stored: secrets replaced by placeholders."""
    if not text.strip():
        raise InvalidInputError("the message is blank")
    result = redact_secrets(text)
    return Screened(result.text, [r.model_dump(mode="json") for r in result.redactions])


@dataclass(frozen=True)
class FollowUpOutcome:
    message: TicketMessage
    # True: this external id was stored before (a redelivery); nothing else happened.
    duplicate: bool
    draft: Draft | None = None
    # True: stored without a draft; the drafting worker drafts the whole conversation.
    deferred: bool = False


def _pending(session: Session, ticket_id: str) -> list[str]:
    return list(
        session.scalars(
            select(Draft.id).where(Draft.ticket_id == ticket_id, Draft.status == "pending")
        )
    )


def _draft_and_finish(
    session: Session,
    ticket: Ticket,
    state: TicketState,
    ctx: Context,
    from_status: str,
    result: AskResult,
    auto_send: AutoSendGate,
    *,
    action: str,
    detail: Mapping[str, Any],
) -> Draft:
    """Store the pipeline's draft (superseding the pending one), then ``finish``."""
    superseded = _pending(session, ticket.id)
    draft = add_pipeline_draft(
        session,
        ticket.id,
        result.draft,
        auto_send=auto_send,
        actor="system:drafting",
        now=ctx.now,
    )
    _finish_moved(
        session,
        ticket,
        state,
        ctx,
        from_status,
        action=action,
        detail={**detail, "draft_id": draft.id, "superseded": superseded},
    )
    return draft


def _finish_moved(
    session: Session,
    ticket: Ticket,
    state: TicketState,
    ctx: Context,
    from_status: str,
    *,
    action: str,
    detail: Mapping[str, Any],
) -> None:
    """``finish`` for an action that may have moved the ticket (drafts, replies)."""
    session.refresh(ticket)
    finish(
        session,
        ticket,
        state,
        ctx,
        action=action,
        detail=detail,
        from_status=from_status,
        to_status=ticket.status,
    )


def _ensure_open(session: Session, ticket: Ticket, state: TicketState, ctx: Context) -> str | None:
    """Put a solved, waiting or answered ticket back before an agent; the event name."""
    if state.merged_into is not None:
        raise InvalidStateError(
            f"ticket {ticket.id} was merged into {state.merged_into}; act on that ticket"
        )
    if ticket.status not in REOPENABLE:
        return None
    name = "reopened" if ticket.status == "solved" else "resumed"
    move(session, ticket, state, "pending_review", ctx)
    event(session, ticket.id, name, name, ctx)
    return name


def follow_up(
    session: Session,
    ticket_id: str,
    text: str,
    result: AskResult,
    ctx: Context,
    *,
    external_id: str | None,
    auto_send: AutoSendGate,
    meta: Mapping[str, Any] | None = None,
) -> FollowUpOutcome:
    """Attach a customer follow-up and the new draft the pipeline wrote for it.

    ``result`` is the pipeline's run on the follow-up with the conversation as history;
    its redaction of the message is what is stored.  A redelivered ``external_id``
    returns the stored message and changes nothing.
    """
    ticket, state = begin(session, ticket_id, ctx)
    if external_id is not None:
        existing = store.by_external_id(session, ticket_id, external_id)
        if existing is not None:
            return FollowUpOutcome(existing, duplicate=True)
    from_status = ticket.status
    reopened = _ensure_open(session, ticket, state, ctx)
    message = store.append(
        session,
        ticket_id,
        kind="customer",
        text=result.message,
        author=ticket.reporter,
        redactions=[r.model_dump(mode="json") for r in result.redactions],
        external_id=external_id,
        meta={**(meta or {}), "triage": result.triage.model_dump(mode="json")},
        now=ctx.now,
    )
    draft = _draft_and_finish(
        session,
        ticket,
        state,
        ctx,
        from_status,
        result,
        auto_send,
        action="follow_up_received",
        detail={"message_id": message.id, "reopened": reopened is not None},
    )
    return FollowUpOutcome(message, duplicate=False, draft=draft)


def attach_while_drafting(
    session: Session,
    ticket_id: str,
    screened: Screened,
    ctx: Context,
    *,
    external_id: str | None,
    meta: Mapping[str, Any] | None = None,
) -> FollowUpOutcome:
    """Attach a follow-up to a ticket whose draft the drafting worker is still writing:
    the worker drafts once, for the whole conversation (services/drafting.py drops a
    draft that has not seen every customer message).

    Should the worker have stored its draft since the caller looked (the ticket is
    pending review with a draft that never saw this message), that draft is superseded
    and the ticket goes back to drafting.  Any other move in that instant is a
    ``TicketChanged``: a retry takes the ordinary path.
    """
    ticket, state = begin(session, ticket_id, ctx)
    if external_id is not None:
        existing = store.by_external_id(session, ticket_id, external_id)
        if existing is not None:
            return FollowUpOutcome(existing, duplicate=True)
    from_status = ticket.status
    superseded: list[str] = []
    if ticket.status == "pending_review":
        superseded = _pending(session, ticket_id)
        session.execute(
            update(Draft)
            .where(Draft.id.in_(superseded))
            .values(status="superseded")
            .execution_options(synchronize_session=False)
        )
        move(session, ticket, state, "drafting", ctx)
    elif ticket.status != "drafting":
        raise TicketChanged(
            f"ticket {ticket_id} was {ticket.status} before this follow-up was stored; retry",
            current(ticket, state),
        )
    message = store.append(
        session,
        ticket_id,
        kind="customer",
        text=screened.text,
        author=ticket.reporter,
        redactions=screened.redactions,
        external_id=external_id,
        meta=dict(meta or {}),
        now=ctx.now,
    )
    _finish_moved(
        session,
        ticket,
        state,
        ctx,
        from_status,
        action="follow_up_received",
        detail={
            "message_id": message.id,
            "reopened": False,
            "drafting": True,
            "superseded": superseded,
        },
    )
    return FollowUpOutcome(message, duplicate=False, deferred=True)


def write(
    session: Session, ticket_id: str, text: str, ctx: Context, *, internal: bool
) -> TicketMessage:
    """An agent's message: an internal note, or a reply sent to the customer.

    A note is never sent, never shown to the developer and never drafted from.  A reply
    (after a reject, or instead of the draft) is stored as a draft written by the agent
    and approved by them at once: the approval enqueues it in the outbox in this
    transaction, so it is delivered exactly once, as an approved draft is; a pending
    draft is superseded by it.
    """
    ticket, state = begin(session, ticket_id, ctx)
    screened = screen(text)
    from_status = ticket.status
    draft_id: str | None = None
    if not internal:
        _ensure_open(session, ticket, state, ctx)
        written = tickets.add_draft(
            session,
            ticket_id,
            text=screened.text,
            confidence=1.0,
            needs_human=False,
            provenance={"drafter": AGENT_DRAFTER, "author": ctx.actor},
            actor=ctx.actor,
            now=ctx.now,
        )
        draft_id = reviews.approve(session, written.id, reviewer=ctx.actor, now=ctx.now).id
    message = store.append(
        session,
        ticket_id,
        kind="note" if internal else "agent",
        text=screened.text,
        author=ctx.actor,
        redactions=screened.redactions,
        draft_id=draft_id,
        now=ctx.now,
    )
    _finish_moved(
        session,
        ticket,
        state,
        ctx,
        from_status,
        action="note_added" if internal else "reply_written",
        detail={"message_id": message.id, "draft_id": draft_id},
    )
    return message


def redraft(
    session: Session,
    ticket_id: str,
    result: AskResult,
    ctx: Context,
    *,
    auto_send: AutoSendGate,
) -> Draft:
    """Store a new draft the agent asked for (the pending one is superseded)."""
    ticket, state = begin(session, ticket_id, ctx)
    from_status = ticket.status
    _ensure_open(session, ticket, state, ctx)
    return _draft_and_finish(
        session,
        ticket,
        state,
        ctx,
        from_status,
        result,
        auto_send,
        action="redraft_requested",
        detail={},
    )
