"""A ticket's stored SLA clocks: started with the ticket, kept current by every event,
and a breach recorded once.

The clocks themselves are pure (sla.py); what is stored on the ticket's state row is
what the queue sorts and filters on without recomputing every row.  So each path that
changes what the clocks run on stores them again: the agent's actions (actions.finish),
an approval (a reply sent), a new ticket, and the background sweep (sweep.py) that
catches a due time passing while nobody touches the ticket.

A breach is recorded the moment the stored flag turns true, whichever path sees it
first: one system event in the conversation and one audit row.  Breaches stay breached
(sla.py), so a ticket is recorded once, unless an agent's recategorisation to a slower
priority clears it and the new target is missed too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.conversations import view
from app.conversations.policy import SlaPolicy
from app.conversations.sla import SlaEvent, SlaState, compute
from app.store import audit, tickets
from app.store import conversations as store
from app.store.columns import utcnow
from app.store.conversations import TicketState
from app.store.models import Draft, Ticket

SYSTEM_ACTOR = "system:sla"
BREACHED = "sla_breached"


def breached_clocks(sla: SlaState) -> list[str]:
    clocks = {
        "first_response": sla.first_response,
        "next_response": sla.next_response,
        "resolution": sla.resolution,
    }
    return [name for name, clock in clocks.items() if clock is not None and clock.breached]


def store_clocks(
    session: Session, ticket: Ticket, state: TicketState, sla: SlaState, now: datetime
) -> bool:
    """Store ``sla`` on the state row; on a new breach record it.  True: newly breached."""
    newly = sla.breached and not state.sla_breached
    view.store_sla(state, sla)
    if newly:
        clocks = breached_clocks(sla)
        names = ", ".join(c.replace("_", " ") for c in clocks)
        store.append(
            session,
            ticket.id,
            kind="system",
            text=f"SLA breached: {names}",
            author=SYSTEM_ACTOR,
            event=BREACHED,
            meta={"clocks": clocks},
            now=now,
        )
        audit.record(
            session,
            ticket_id=ticket.id,
            actor=SYSTEM_ACTOR,
            action=BREACHED,
            detail={"clocks": clocks, "priority": ticket.priority},
            now=now,
        )
    return newly


class SlaClocks:
    """The policy and the time the stored clocks are computed with."""

    def __init__(self, policy: SlaPolicy, clock: Callable[[], datetime] = utcnow) -> None:
        self.policy = policy
        self.clock = clock

    def start(self, session: Session, ticket: Ticket) -> None:
        """A new ticket's conversation (message #1, its state row) and first clocks, in
        the transaction that created it (so no other writer can hold it yet).

        On the creation path, so computed from what a new ticket can hold (its message
        and at most a reply auto-sent with it) rather than by loading the whole view,
        which doubled the cost of storing a ticket on SQLite."""
        state = store.ensure_started(session, ticket, now=ticket.created_at)
        now = self.clock()
        events = [SlaEvent(ticket.created_at, "customer")]
        replied = session.execute(
            select(Draft.approved_at, Draft.created_at).where(
                Draft.ticket_id == ticket.id, Draft.status.in_(view.REPLIED)
            )
        )
        events += [SlaEvent(approved or created, "agent_reply") for approved, created in replied]
        targets = self.policy.for_priority(ticket.priority)
        store_clocks(session, ticket, state, compute(targets, ticket.created_at, events, now), now)
        session.flush()

    def refresh(self, session: Session, ticket_id: str) -> bool:
        """Recompute and store the clocks of a ticket the caller has locked (an approval
        holds its lock).  True: the ticket is newly breached."""
        ticket = tickets.get_ticket(session, ticket_id)
        return self._store(session, ticket, store.ensure_started(session, ticket, now=self.clock()))

    def _store(self, session: Session, ticket: Ticket, state: TicketState) -> bool:
        now = self.clock()
        sla = view.load(session, ticket, self.policy, now).sla
        newly = store_clocks(session, ticket, state, sla, now)
        session.flush()
        return newly
