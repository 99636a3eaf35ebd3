"""The agent's workflow actions on a ticket, each in the caller's transaction.

Every action starts with ``begin`` (the ticket's write lock, its state row, the
optional ``expected_version`` check) and ends with ``finish`` (the version bumped by a
compare-and-set, the SLA clocks recomputed and stored (a new breach recorded, see
clocks.py), one audit row).  A lost race or a
stale version raises ``TicketChanged`` carrying the current state; invalid requests
raise the store's domain errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.conversations import view
from app.conversations.clocks import store_clocks
from app.conversations.errors import TicketChanged
from app.conversations.policy import SlaPolicy
from app.store import audit
from app.store import conversations as store
from app.store.conversations import LinkKind, TicketCorrection, TicketLink, TicketState
from app.store.errors import InvalidInputError, InvalidStateError
from app.store.models import TICKET_STATUSES, Draft, Ticket, TicketStatus
from app.store.transitions import move_ticket

StatusAction = Literal["solve", "await_customer", "reopen"]

# A reply or a follow-up on a ticket in one of these puts it back before an agent.
REOPENABLE: frozenset[TicketStatus] = frozenset({"approved", "sent", "solved", "awaiting_customer"})
_STATUS_MOVES: dict[StatusAction, tuple[frozenset[TicketStatus], TicketStatus, str]] = {
    # action: (from any of, to, event recorded in the conversation)
    "solve": (frozenset(TICKET_STATUSES) - {"solved"}, "solved", "solved"),
    "await_customer": (
        frozenset({"pending_review", "approved", "sent", "rejected", "escalated"}),
        "awaiting_customer",
        "awaiting_customer",
    ),
    "reopen": (frozenset({"solved", "awaiting_customer"}), "pending_review", "reopened"),
}


@dataclass(frozen=True)
class Context:
    """What every action needs besides its own arguments."""

    actor: str
    now: datetime
    policy: SlaPolicy
    expected_version: int | None = None


def current(ticket: Ticket, state: TicketState) -> dict[str, Any]:
    """The workflow state a client needs to decide again after losing a race."""
    return {
        "id": ticket.id,
        "status": ticket.status,
        "version": state.version,
        "assignee": state.assignee,
        "category": ticket.category,
        "priority": ticket.priority,
        "team": ticket.team,
        "merged_into": state.merged_into,
    }


def begin(session: Session, ticket_id: str, ctx: Context) -> tuple[Ticket, TicketState]:
    ticket = store.lock_for_update(session, ticket_id, now=ctx.now)
    state = store.ensure_started(session, ticket, now=ctx.now)
    if ctx.expected_version is not None and state.version != ctx.expected_version:
        raise TicketChanged(
            f"ticket {ticket_id} is at version {state.version}, not the expected version "
            f"{ctx.expected_version}: someone changed it first; reload it",
            current(ticket, state),
        )
    return ticket, state


def finish(
    session: Session,
    ticket: Ticket,
    state: TicketState,
    ctx: Context,
    *,
    action: str,
    detail: Mapping[str, Any],
    from_status: str | None = None,
    to_status: str | None = None,
    says: tuple[str, str] | None = None,
) -> None:
    """Bump the version, record ``says`` (event name, text) in the conversation,
    store the SLA clocks and write the audit row."""
    if says is not None:
        event(session, ticket.id, *says, ctx)
    session.flush()
    won = session.execute(
        update(TicketState)
        .where(TicketState.ticket_id == ticket.id, TicketState.version == state.version)
        .values(version=state.version + 1, updated_at=ctx.now)
        .returning(TicketState.version)
        .execution_options(synchronize_session=False)
    ).first()
    if won is None:
        # Unreachable under the ticket's lock; kept so a caller that skipped `begin`
        # still cannot overwrite a newer state.
        raise TicketChanged(
            f"ticket {ticket.id} changed meanwhile; reload it", current(ticket, state)
        )
    session.refresh(state)
    session.refresh(ticket)
    conversation = view.load(session, ticket, ctx.policy, ctx.now)
    store_clocks(session, ticket, state, conversation.sla, ctx.now)
    audit.record(
        session,
        ticket_id=ticket.id,
        actor=ctx.actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        detail={**detail, "version": state.version},
        now=ctx.now,
    )
    session.flush()


def event(session: Session, ticket_id: str, name: str, text: str, ctx: Context) -> None:
    """A system event in the conversation (shown to agents, not to the developer)."""
    store.append(
        session, ticket_id, kind="system", text=text, author=ctx.actor, event=name, now=ctx.now
    )


def move(
    session: Session, ticket: Ticket, state: TicketState, to: TicketStatus, ctx: Context
) -> None:
    if not move_ticket(session, ticket.id, expected=ticket.status, to=to, now=ctx.now):
        session.refresh(ticket)
        raise TicketChanged(
            f"ticket {ticket.id} changed meanwhile; reload it", current(ticket, state)
        )


# -- assignment ------------------------------------------------------------------------


def assign(
    session: Session, ticket_id: str, assignee: str | None, ctx: Context, *, take: bool = False
) -> None:
    """Assign (or with None unassign); ``take`` assigns to the actor only if nobody has it."""
    ticket, state = begin(session, ticket_id, ctx)
    if take and state.assignee not in (None, assignee):
        raise TicketChanged(
            f"ticket {ticket_id} is already assigned to {state.assignee}", current(ticket, state)
        )
    previous = state.assignee
    if previous == assignee:
        return  # already so: nothing to record, the version stays
    state.assignee = assignee
    name = "assigned" if assignee else "unassigned"
    finish(
        session,
        ticket,
        state,
        ctx,
        action=f"ticket_{name}",
        detail={"from": previous, "to": assignee},
        says=(name, f"assigned to {assignee}" if assignee else "unassigned"),
    )


# -- corrections -----------------------------------------------------------------------


def recategorize(
    session: Session,
    ticket_id: str,
    ctx: Context,
    *,
    category: str | None,
    priority: str | None,
    team_for: Callable[[str], str | None],
) -> None:
    """Correct the category and/or priority; each change is stored as predicted vs final."""
    if category is None and priority is None:
        raise InvalidInputError("give a category, a priority or both")
    ticket, state = begin(session, ticket_id, ctx)
    changes: dict[str, Any] = {}
    if category is not None and category != ticket.category:
        team = team_for(category)
        changes["category"] = {"from": ticket.category, "to": category}
        changes["team"] = {"from": ticket.team, "to": team}
        _correct(session, ticket, "category", category, ctx)
        ticket.category, ticket.team = category, team
    if priority is not None and priority != ticket.priority:
        changes["priority"] = {"from": ticket.priority, "to": priority}
        _correct(session, ticket, "priority", priority, ctx)
        ticket.priority = priority
    if not changes:
        return
    session.flush()
    summary = ", ".join(f"{k} {v['from']} → {v['to']}" for k, v in changes.items())
    finish(
        session,
        ticket,
        state,
        ctx,
        action="ticket_recategorized",
        detail=changes,
        says=("recategorized", summary),
    )


def _correct(
    session: Session,
    ticket: Ticket,
    field: Literal["category", "priority"],
    final: str,
    ctx: Context,
) -> None:
    predicted = ticket.triage.get(field) if isinstance(ticket.triage, dict) else None
    session.add(
        TicketCorrection(
            ticket_id=ticket.id,
            field=field,
            predicted=predicted if isinstance(predicted, str) else None,
            previous=getattr(ticket, field),
            final=final,
            actor=ctx.actor,
            created_at=ctx.now,
        )
    )


# -- status ----------------------------------------------------------------------------


def change_status(session: Session, ticket_id: str, action: StatusAction, ctx: Context) -> None:
    ticket, state = begin(session, ticket_id, ctx)
    allowed, to, name = _STATUS_MOVES[action]
    if state.merged_into is not None:
        raise InvalidStateError(
            f"ticket {ticket_id} was merged into {state.merged_into}; act on that ticket"
        )
    if ticket.status not in allowed:
        raise InvalidStateError(
            f"ticket {ticket_id} is {ticket.status}; cannot {action.replace('_', ' ')} it "
            f"(allowed from: {', '.join(sorted(allowed))})"
        )
    from_status = ticket.status
    move(session, ticket, state, to, ctx)
    finish(
        session,
        ticket,
        state,
        ctx,
        action=f"ticket_{name}",
        detail={},
        from_status=from_status,
        to_status=to,
        says=(name, name.replace("_", " ")),
    )


# -- merge and link --------------------------------------------------------------------


def root_of(session: Session, ticket_id: str) -> str:
    """Follow ``merged_into`` to the ticket that carries the conversation now."""
    seen = [ticket_id]
    while True:
        target = session.scalar(
            select(TicketState.merged_into).where(TicketState.ticket_id == seen[-1])
        )
        if target is None or target in seen:
            return seen[-1]
        seen.append(target)


def _begin_pair(
    session: Session, first: str, second: str, ctx: Context
) -> dict[str, tuple[Ticket, TicketState]]:
    """``begin`` on two tickets, always in id order: two requests on one pair (opposite
    merges, links) queue instead of deadlocking.  The version check is ``first``'s."""
    unchecked = replace(ctx, expected_version=None)
    return {t: begin(session, t, ctx if t == first else unchecked) for t in sorted((first, second))}


def merge(session: Session, duplicate_id: str, into_id: str, ctx: Context) -> str:
    """Merge ``duplicate_id`` into ``into_id``; returns the ticket that now carries both.

    The duplicate keeps its messages and audit trail and points at its target; the
    target's conversation shows them.  The duplicate is solved and its pending draft
    superseded (nobody should review it twice).
    """
    target_id = root_of(session, into_id)
    if target_id == duplicate_id:
        where = "itself" if into_id == duplicate_id else f"{into_id}, which was merged into it"
        raise InvalidInputError(f"ticket {duplicate_id} cannot be merged into {where}")
    locked = _begin_pair(session, duplicate_id, target_id, ctx)
    dup, dup_state = locked[duplicate_id]
    target, target_state = locked[target_id]
    if dup_state.merged_into is not None:
        raise InvalidStateError(
            f"ticket {duplicate_id} is already merged into {dup_state.merged_into}"
        )
    if target_state.merged_into is not None:
        raise TicketChanged(
            f"ticket {target_id} was merged meanwhile; retry", current(target, target_state)
        )
    superseded = list(
        session.scalars(
            update(Draft)
            .where(Draft.ticket_id == duplicate_id, Draft.status == "pending")
            .values(status="superseded")
            .returning(Draft.id)
            .execution_options(synchronize_session=False)
        )
    )
    dup_state.merged_into = target_id
    from_status = dup.status
    if dup.status != "solved":
        move(session, dup, dup_state, "solved", ctx)
    finish(
        session,
        dup,
        dup_state,
        ctx,
        action="ticket_merged",
        detail={"into": target_id, "superseded": superseded},
        from_status=from_status,
        to_status="solved",
        says=("merged", f"merged into {target_id}"),
    )
    finish(
        session,
        target,
        target_state,
        ctx,
        action="ticket_merge_received",
        detail={"from": duplicate_id},
        says=("merge_received", f"{duplicate_id} merged into this ticket"),
    )
    return target_id


def link(session: Session, ticket_id: str, other_id: str, kind: LinkKind, ctx: Context) -> None:
    """Link two tickets (e.g. reports of one incident); linking again changes nothing."""
    if ticket_id == other_id:
        raise InvalidInputError("a ticket cannot be linked to itself")
    low, high = sorted((ticket_id, other_id))
    locked = _begin_pair(session, ticket_id, other_id, ctx)
    existing = session.scalar(
        select(TicketLink).where(TicketLink.ticket_id == low, TicketLink.other_id == high)
    )
    if existing is not None:
        return
    session.add(
        TicketLink(
            ticket_id=low, other_id=high, kind=kind, created_by=ctx.actor, created_at=ctx.now
        )
    )
    for this, that in ((ticket_id, other_id), (other_id, ticket_id)):
        ticket, state = locked[this]
        finish(
            session,
            ticket,
            state,
            ctx,
            action="ticket_linked",
            says=("linked", f"linked to {that} ({kind})"),
            detail={"other": that, "kind": kind},
        )
