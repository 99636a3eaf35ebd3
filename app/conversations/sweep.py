"""The SLA sweep: a due time that passes while nobody touches the ticket is a breach.

The stored clocks (clocks.py) change when something happens to a ticket; a ticket
nobody acts on would otherwise never be marked breached, and the queue's ``breached``
filter and due-time order would rest on stale rows.  The background workers
(services/workers.py) run this periodically; any number of processes may, because each
change is made under the ticket's lock and a breach is recorded only when the stored
flag turns true (so once, whoever gets there first).

Which tickets it looks at (a bounded batch each time, oldest due first):
- a due time already passed, not yet marked breached: breached now, or the row was
  stale (a reply sent without the clocks being stored again) and is refreshed;
- open tickets whose clocks were never stored (older rows, tickets written directly to
  the store): started, so the queue can sort them by due time too.
Each is first computed without a lock; only a ticket whose stored clocks differ from the
computed ones is locked, computed again and written, so a sweep over unchanged tickets
writes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.conversations import view
from app.conversations.clocks import SlaClocks
from app.conversations.sla import SlaState
from app.store import conversations as store
from app.store import tickets
from app.store.conversations import TicketState
from app.store.errors import NotFoundError
from app.store.models import Ticket

log = logging.getLogger(__name__)

DEFAULT_BATCH = 100


@dataclass(frozen=True)
class SweepReport:
    looked_at: int
    refreshed: int  # stored clocks written (breaches included)
    breached: list[str]  # tickets newly marked breached


def _stored_as(state: TicketState | None, sla: SlaState) -> bool:
    """Whether the state row already holds exactly these clocks."""
    if state is None:
        return False
    next_response = sla.next_response.due if sla.next_response else None
    return (
        state.sla_first_response_due == sla.first_response.due
        and state.sla_next_response_due == next_response
        and state.sla_resolution_due == sla.resolution.due
        and state.sla_next_due == sla.next_due
        and state.sla_breached == sla.breached
        and state.sla_paused == sla.paused
    )


class SlaSweep:
    def __init__(
        self, sessions: sessionmaker[Session], clocks: SlaClocks, *, batch: int = DEFAULT_BATCH
    ) -> None:
        self.sessions = sessions
        self.clocks = clocks
        self.batch = batch

    def run_once(self) -> int:
        """One sweep; returns how many tickets changed (the workers' loop goes on at
        once while there are some, so a backlog is worked off batch by batch)."""
        return self.sweep().refreshed

    def sweep(self) -> SweepReport:
        now = self.clocks.clock()
        with self.sessions() as session:
            candidates = self._candidates(session, now)
        refreshed, breached = 0, []
        for ticket_id in candidates:
            if not self._needs_change(ticket_id, now):
                continue
            try:
                with self.sessions.begin() as session:
                    newly = self._store(session, ticket_id)
            except NotFoundError:
                continue  # deleted meanwhile
            refreshed += 1
            if newly:
                breached.append(ticket_id)
        if breached:
            log.info("SLA breaches recorded", extra={"tickets": len(breached)})
        return SweepReport(len(candidates), refreshed, breached)

    def _candidates(self, session: Session, now: datetime) -> list[str]:
        open_ticket = Ticket.status != "solved"
        passed = (
            select(TicketState.ticket_id)
            .where(
                TicketState.sla_breached.is_(False),
                TicketState.sla_next_due < now,
                TicketState.merged_into.is_(None),
            )
            .order_by(TicketState.sla_next_due, TicketState.ticket_id)
            .limit(self.batch)
        )
        # Open and neither paused nor solved, so a resolution clock must be running:
        # a row without any due time was never computed.
        never_stored = (
            select(TicketState.ticket_id)
            .join(Ticket, Ticket.id == TicketState.ticket_id)
            .where(
                TicketState.sla_next_due.is_(None),
                TicketState.sla_paused.is_(False),
                TicketState.sla_breached.is_(False),
                TicketState.merged_into.is_(None),
                open_ticket,
            )
            .order_by(Ticket.created_at, Ticket.id)
            .limit(self.batch)
        )
        unstarted = (
            select(Ticket.id)
            .outerjoin(TicketState, TicketState.ticket_id == Ticket.id)
            .where(TicketState.ticket_id.is_(None), open_ticket)
            .order_by(Ticket.created_at, Ticket.id)
            .limit(self.batch)
        )
        found: list[str] = []
        for query in (passed, never_stored, unstarted):
            found.extend(session.scalars(query))
        return list(dict.fromkeys(found))[: self.batch]

    def _needs_change(self, ticket_id: str, now: datetime) -> bool:
        """Computed without a lock: most looks change nothing and so write nothing."""
        with self.sessions() as session:
            try:
                ticket = tickets.get_ticket(session, ticket_id)
            except NotFoundError:
                return False
            sla = view.load(session, ticket, self.clocks.policy, now).sla
            return not _stored_as(store.state_of(session, ticket_id), sla)

    def _store(self, session: Session, ticket_id: str) -> bool:
        # The ticket's write lock first, as every action takes it (one lock order).
        store.lock_for_update(session, ticket_id, now=self.clocks.clock())
        return self.clocks.refresh(session, ticket_id)
