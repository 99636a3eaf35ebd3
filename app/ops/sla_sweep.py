"""Storing the SLA clocks of tickets that no workflow action has stored them for.

The conversation layer stores a ticket's clocks (``ticket_states``) when an agent acts
on it through the workflow; a ticket only ever approved from the review queue, or not
acted on yet, has none, and one whose reply was approved since has them as of before
that reply.  The metrics read the stored clocks, so this sweep stores them: for each
ticket without a state row, changed since its clocks were stored, or past a due time
not yet recorded as breached, it computes the clocks from the conversation
(app/conversations: the same code as the queue) and stores them.

It changes no workflow state: the state row's ``version`` (the agents' compare-and-set
token) stays as it is, and a ticket an action is holding is simply picked up again at
the next sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.conversations import view
from app.conversations.policy import SlaPolicy
from app.store import conversations as store
from app.store.columns import utcnow
from app.store.conversations import TicketState
from app.store.models import Ticket
from app.store.tickets import lock_ticket

log = logging.getLogger(__name__)

BATCH = 200


def due_for_sweep(session: Session, now: datetime, limit: int) -> list[str]:
    """Tickets whose stored clocks are missing or may be out of date, newest first."""
    state = TicketState
    stmt = (
        select(Ticket.id)
        .outerjoin(state, state.ticket_id == Ticket.id)
        .where(
            or_(
                state.ticket_id.is_(None),
                Ticket.updated_at > state.updated_at,
                and_(state.sla_next_due <= now, state.sla_breached.is_(False)),
            )
        )
        .order_by(Ticket.created_at.desc(), Ticket.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def sweep_one(session: Session, ticket_id: str, policy: SlaPolicy, now: datetime) -> None:
    """Store one ticket's clocks as of ``now`` (the caller commits)."""
    ticket = lock_ticket(session, ticket_id)
    state = store.ensure_started(session, ticket, now=now)
    conversation = view.load(session, ticket, policy, now)
    view.store_sla(state, conversation.sla)
    session.flush()
    # As of this sweep; a later change to the ticket makes it due again.
    session.execute(
        update(TicketState)
        .where(TicketState.ticket_id == ticket_id)
        .values(updated_at=max(now, ticket.updated_at))
        .execution_options(synchronize_session=False)
    )


class SlaSweeper:
    """A background-worker step (app/services/workers.py)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        policy: SlaPolicy,
        *,
        limit: int = BATCH,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.policy = policy
        self.limit = limit
        self.clock = clock

    def run_once(self) -> int:
        now = self.clock()
        with self.sessions() as session:
            due = due_for_sweep(session, now, self.limit)
        swept = 0
        for ticket_id in due:
            try:
                with self.sessions.begin() as session:
                    sweep_one(session, ticket_id, self.policy, now)
                swept += 1
            except (IntegrityError, OperationalError):
                # An action started the conversation (or holds the ticket) meanwhile:
                # the next sweep sees its result.
                log.info("sla sweep skipped a busy ticket", extra={"ticket_id": ticket_id})
        return swept
