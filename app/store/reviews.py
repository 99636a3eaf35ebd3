"""Agent review actions: approve (optionally edited), reject, escalate.

Every action is a compare-and-set on the draft and the ticket (see transitions.py),
plus a ReviewEvent and an AuditLog row, all in the caller's transaction.  An approval
also enqueues the reply in the outbox in that same transaction, so "approved" and "will
be sent" can never disagree.
"""

from __future__ import annotations

from datetime import datetime

from rapidfuzz.distance import Levenshtein
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store import audit
from app.store.columns import utcnow
from app.store.errors import ConflictError, InvalidInputError, InvalidStateError, NotFoundError
from app.store.models import (
    REJECT_REASONS,
    Draft,
    OutboxMessage,
    RejectReason,
    ReviewAction,
    ReviewEvent,
    Ticket,
    TicketStatus,
)
from app.store.tickets import lock_ticket
from app.store.transitions import move_draft, move_ticket

# Statuses in which a ticket's pending draft may be decided on.  Escalated tickets are
# included: the team it was handed to reviews the same draft.
REVIEWABLE: tuple[TicketStatus, ...] = ("pending_review", "escalated")
ESCALATABLE: tuple[TicketStatus, ...] = ("drafting", "pending_review", "rejected", "escalated")


def _load_draft(session: Session, draft_id: str) -> Draft:
    draft = session.get(Draft, draft_id, populate_existing=True)
    if draft is None:
        raise NotFoundError(f"draft {draft_id} not found")
    return draft


def _lost_draft_race(session: Session, draft: Draft, expected_version: int | None) -> Exception:
    """Explain why the compare-and-set on a pending draft matched nothing."""
    session.refresh(draft)
    if draft.status == "superseded":
        newer = session.scalar(
            select(Draft.id).where(Draft.ticket_id == draft.ticket_id, Draft.status == "pending")
        )
        hint = f"; the current draft is {newer}" if newer else ""
        return ConflictError(
            f"draft {draft.id} (version {draft.version}) was superseded by a newer version{hint}"
        )
    if draft.status != "pending":
        return ConflictError(f"draft {draft.id} is already {draft.status}")
    return ConflictError(
        f"draft {draft.id} is version {draft.version}, not the expected version "
        f"{expected_version}; reload the ticket"
    )


def _decide_ticket(
    session: Session, ticket: Ticket, from_status: TicketStatus, *, to: TicketStatus, now: datetime
) -> None:
    """Move the (locked) ticket from the reviewable status it had to ``to``."""
    if from_status not in REVIEWABLE:
        raise InvalidStateError(
            f"ticket {ticket.id} is {from_status}; its drafts cannot be reviewed now"
        )
    if not move_ticket(session, ticket.id, expected=from_status, to=to, now=now):
        raise ConflictError(f"ticket {ticket.id} changed during the review; reload and retry")


def approve(
    session: Session,
    draft_id: str,
    *,
    reviewer: str,
    text: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Draft:
    """Approve a pending draft, as written or with the reviewer's edited ``text``.

    Raises ConflictError when the draft was already decided, superseded, or is not
    ``expected_version``; the caller must then roll back.  Enqueues exactly one outbox
    message for the reply.
    """
    now = now or utcnow()
    if text is not None and not text.strip():
        raise InvalidInputError("an approved reply cannot be blank")
    draft = _load_draft(session, draft_id)
    if expected_version is not None and draft.version != expected_version:
        raise _lost_draft_race(session, draft, expected_version)
    final_text = draft.text if text is None else text
    ticket = lock_ticket(session, draft.ticket_id)
    from_status = ticket.status
    won = move_draft(
        session,
        draft_id,
        expected="pending",
        to="approved",
        version=expected_version,
        final_text=final_text,
        approved_by=reviewer,
        approved_at=now,
    )
    if not won:
        raise _lost_draft_race(session, draft, expected_version)
    _decide_ticket(session, ticket, from_status, to="approved", now=now)

    edited = final_text != draft.text
    action: ReviewAction = "edit" if edited else "approve"
    distance = int(Levenshtein.distance(draft.text, final_text))
    message = OutboxMessage(
        ticket_id=ticket.id,
        draft_id=draft.id,
        channel=ticket.channel,
        payload={
            "ticket_id": ticket.id,
            "draft_id": draft.id,
            "version": draft.version,
            "channel": ticket.channel,
            "reporter": ticket.reporter,
            "external_ref": ticket.external_ref,
            "text": final_text,
            "citations": draft.citations,
        },
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add_all(
        [
            message,
            ReviewEvent(
                ticket_id=ticket.id,
                draft_id=draft.id,
                action=action,
                reviewer=reviewer,
                edit_distance=distance,
                created_at=now,
            ),
        ]
    )
    session.flush()
    audit.record(
        session,
        ticket_id=ticket.id,
        actor=reviewer,
        action="draft_approved",
        from_status=from_status,
        to_status="approved",
        detail={
            "draft_id": draft.id,
            "version": draft.version,
            "edited": edited,
            "edit_distance": distance,
            "outbox_id": message.id,
        },
        now=now,
    )
    session.flush()
    session.refresh(draft)
    return draft


def reject(
    session: Session,
    draft_id: str,
    *,
    reviewer: str,
    reason_code: RejectReason,
    reason: str | None = None,
    now: datetime | None = None,
) -> Draft:
    """Reject a pending draft; the ticket becomes ``rejected`` until a new draft arrives."""
    now = now or utcnow()
    if reason_code not in REJECT_REASONS:
        raise InvalidInputError(
            f"unknown reason code {reason_code!r}; use one of {', '.join(REJECT_REASONS)}"
        )
    draft = _load_draft(session, draft_id)
    ticket = lock_ticket(session, draft.ticket_id)
    from_status = ticket.status
    if not move_draft(session, draft_id, expected="pending", to="rejected"):
        raise _lost_draft_race(session, draft, None)
    _decide_ticket(session, ticket, from_status, to="rejected", now=now)
    session.add(
        ReviewEvent(
            ticket_id=draft.ticket_id,
            draft_id=draft.id,
            action="reject",
            reviewer=reviewer,
            reason_code=reason_code,
            reason=reason,
            created_at=now,
        )
    )
    audit.record(
        session,
        ticket_id=draft.ticket_id,
        actor=reviewer,
        action="draft_rejected",
        from_status=from_status,
        to_status="rejected",
        detail={"draft_id": draft.id, "version": draft.version, "reason_code": reason_code},
        now=now,
    )
    session.flush()
    session.refresh(draft)
    return draft


def escalate(
    session: Session,
    ticket_id: str,
    *,
    reviewer: str,
    reason: str,
    team: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Hand the ticket to a human team (``team`` reroutes it; escalating again reassigns).

    A pending draft stays pending so the receiving team can approve or reject it.
    """
    now = now or utcnow()
    ticket = lock_ticket(session, ticket_id)
    from_status, from_team = ticket.status, ticket.team
    if from_status not in ESCALATABLE:
        raise InvalidStateError(
            f"ticket {ticket_id} is {from_status}; only an undecided ticket can be escalated"
        )
    new_team = team or from_team
    if not move_ticket(
        session, ticket_id, expected=from_status, to="escalated", now=now, team=new_team
    ):
        raise ConflictError(f"ticket {ticket_id} changed during the escalation; reload and retry")
    pending = session.scalar(
        select(Draft.id).where(Draft.ticket_id == ticket_id, Draft.status == "pending")
    )
    action: ReviewAction = "reassign" if from_status == "escalated" else "escalate"
    session.add(
        ReviewEvent(
            ticket_id=ticket_id,
            draft_id=pending,
            action=action,
            reviewer=reviewer,
            reason=reason,
            created_at=now,
        )
    )
    audit.record(
        session,
        ticket_id=ticket_id,
        actor=reviewer,
        action="ticket_reassigned" if action == "reassign" else "ticket_escalated",
        from_status=from_status,
        to_status="escalated",
        detail={"reason": reason, "from_team": from_team, "to_team": new_team},
        now=now,
    )
    session.flush()
    session.refresh(ticket)
    return ticket


def list_events(session: Session, ticket_id: str) -> list[ReviewEvent]:
    stmt = (
        select(ReviewEvent)
        .where(ReviewEvent.ticket_id == ticket_id)
        .order_by(ReviewEvent.created_at, ReviewEvent.id)
    )
    return list(session.scalars(stmt))
