"""Performs the scripted operations through the service layer, each at its own instant.

Tickets are stored by ``TicketService.store`` (the pipeline's triage, redaction and
draft), or, for questions asked on the help page, by ``TicketService.record_ask`` (what
POST /v1/ask does: a self-service answer with the asker's keyed hash, or a widget ticket
recorded against that asker); the askers' verdicts go through the self-service store
(``give_feedback``, what POST /v1/ask/{id}/feedback does).  Agents act through the
conversation actions (app/conversations/actions.py, messages.py) and the review store
(approve, reject, escalate), and approved replies leave through the outbox (claimed and
marked sent at the reply's instant).  Every call gets the operation's time as its clock:
nothing sleeps.

Operations run in one transaction per simulated hour (an SQLite commit fsyncs, and a
commit per action would multiply the replay's time for no benefit to the history); at
the start of each hour with activity the SLA sweep runs at that instant, as the workers'
sweep does live, so a due time passing in a queue nobody touches is recorded as a
breach within the hour.  The stored clocks are kept as the services keep them: started
with a ticket, refreshed after an approval (as ``ReviewService.approve`` does), stored by
every conversation action.
Reusable-answer learning (ReviewService's side effect) is left out on purpose: it would
feed approved replies back into retrieval in replay order, making the drafts depend on
the history written so far.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.conversations import actions, messages, view
from app.conversations.actions import Context, StatusAction
from app.conversations.clocks import SlaClocks
from app.conversations.policy import SlaPolicy
from app.conversations.sweep import SlaSweep
from app.operations.demo.mix import PlannedTicket
from app.operations.demo.pipeline_cache import CachedPipeline
from app.operations.demo.script import Op
from app.services.field_screening import screen_text
from app.services.tickets import NewTicket, Screened, TicketService
from app.store import outbox, reviews, self_service, tickets
from app.store.errors import InvalidStateError
from app.store.models import Draft, RejectReason
from app.store.self_service import Feedback

OUTBOX_WORKER = "demo-history"
DELIVERY_DELAY = timedelta(seconds=5)


@dataclass
class SimClock:
    """The simulated time every service that reads a clock is given (SLA clocks, sweep)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


class Replayer:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        service: TicketService,
        pipeline: CachedPipeline,
        policy: SlaPolicy,
        team_for: Callable[[str], str | None],
        planned: Sequence[PlannedTicket],
        clock: SimClock,
        clocks: SlaClocks,
        actors: dict[str, str],
        intake_actor: str,
        intake_token: str | None,
        approve_follow_up_draft: float,
    ) -> None:
        self.sessions = sessions
        self.service = service
        self.pipeline = pipeline
        self.policy = policy
        self.team_for = team_for
        self.planned = planned
        self.clock = clock
        self.clocks = clocks
        self.sweep = SlaSweep(sessions, clocks)
        self.actors = actors
        self.intake_actor = intake_actor
        self.intake_token = intake_token
        self.approve_follow_up_draft = approve_follow_up_draft
        self.ids: dict[int, str] = {}
        self.answers: dict[int, str] = {}  # help-page questions answered: their answer ids
        self.done: Counter[str] = Counter()

    def run(self, ops: Sequence[Op], progress: Callable[[date], None] | None = None) -> None:
        hour: datetime | None = None
        session: Session | None = None
        try:
            for op in ops:
                slot = op.at.replace(minute=0, second=0, microsecond=0)
                if slot != hour:
                    if session is not None:
                        session.commit()
                        session.close()
                    self._sweep(slot)
                    if progress is not None and (hour is None or slot.date() != hour.date()):
                        progress(slot.date())
                    hour = slot
                    session = self.sessions()
                assert session is not None
                self.clock.now = op.at
                self.apply(session, op)
            if session is not None:
                session.commit()
        finally:
            if session is not None:
                session.close()

    def finish(self, at: datetime) -> None:
        """The last sweep, at the end of the history."""
        self._sweep(at)

    def _sweep(self, at: datetime) -> None:
        self.clock.now = at
        # As the workers' loop: again at once while a sweep changed something.
        while (changed := self.sweep.run_once()) > 0:
            self.done["sla_swept"] += changed

    # -- one operation -------------------------------------------------------------------
    def _ctx(self, op: Op) -> Context:
        actor = self.actors[op.agent] if op.agent else self.intake_actor
        return Context(actor, op.at, self.policy)

    def _pending(self, session: Session, ticket_id: str) -> Draft | None:
        return session.scalar(
            select(Draft).where(Draft.ticket_id == ticket_id, Draft.status == "pending")
        )

    def _deliver(self, session: Session, at: datetime) -> None:
        """The outbox worker's claim and mark, at the reply's instant (plus a moment)."""
        when = at + DELIVERY_DELAY
        for message in outbox.claim_batch(session, OUTBOX_WORKER, limit=10, now=when):
            outbox.mark_sent(session, message.id, worker_id=OUTBOX_WORKER, now=when)

    def apply(self, session: Session, op: Op) -> None:
        if op.kind == "create":
            self._create(session, op)
            self.done["create_via_help" if self.planned[op.ticket].asker else op.kind] += 1
            return
        if op.kind == "ask":
            self._ask(session, op)
            self.done[op.kind] += 1
            return
        if op.kind == "feedback":
            self._feedback(session, op)
            return
        ticket_id = self.ids.get(op.ticket)
        if ticket_id is None:
            self.done["skipped"] += 1  # its ticket arrived before the history's start
            return
        handler = getattr(self, f"_{op.kind}")
        acted = handler(session, ticket_id, op)
        self.done[op.kind if acted is not False else f"{op.kind}_skipped"] += 1

    def _create(self, session: Session, op: Op) -> None:
        planned = self.planned[op.ticket]
        message = planned.message
        label = message.label()
        if planned.arrival.incident is not None:
            label["incident"] = planned.arrival.incident
        if planned.asker is not None:
            self._ask(session, op, {"demo": {**label, **_help_label(planned)}})
            return
        result = self.pipeline.run(message.text)
        new = NewTicket(
            message=message.text,
            channel=planned.channel,
            reporter=planned.reporter,
            metadata={"demo": label},
            created_by=self.intake_token,
        )
        ticket = self.service.store(
            session, new, Screened(result, deferred=False), actor=self.intake_actor, now=op.at
        )
        self.ids[op.ticket] = ticket.id
        if ticket.status == "approved":
            # Sent by the auto-send policy, if one is configured (the built-in one sends
            # nothing): delivered like an agent's approval.
            self._deliver(session, op.at)

    def _ask(self, session: Session, op: Op, metadata: dict[str, object] | None = None) -> None:
        """The question asked on /help: the ask service answers it or opens its ticket."""
        planned = self.planned[op.ticket]
        result = self.pipeline.run(planned.message.text)
        answer, ticket = self.service.record_ask(
            session, result, asker=planned.asker, metadata=metadata, now=op.at
        )
        if ticket is not None:
            self.ids[op.ticket] = ticket.id
            if ticket.status == "approved":
                self._deliver(session, op.at)
        if answer.answer_id is not None:
            self.answers[op.ticket] = answer.answer_id
        planned_answer = op.kind == "ask"
        if planned_answer != (answer.answer_id is not None):
            # The plan asked the service's own rule on the same result: never expected.
            self.done["ask_unplanned_outcome"] += 1

    def _feedback(self, session: Session, op: Op) -> None:
        answer_id = self.answers.get(op.ticket)
        if answer_id is None:
            self.done["feedback_skipped"] += 1
            return
        verdict: Feedback = "helpful" if op.text == "helpful" else "not_helpful"
        self_service.give_feedback(session, answer_id, verdict, now=op.at)
        self.done[f"feedback_{verdict}"] += 1

    def _take(self, session: Session, ticket_id: str, op: Op) -> None:
        actions.assign(session, ticket_id, op.agent, self._ctx(op), take=True)

    def _assign(self, session: Session, ticket_id: str, op: Op) -> None:
        actions.assign(session, ticket_id, op.agent, self._ctx(op))

    def _recategorize(self, session: Session, ticket_id: str, op: Op) -> None:
        actions.recategorize(
            session,
            ticket_id,
            self._ctx(op),
            category=op.category,
            priority=op.priority,
            team_for=self.team_for,
        )

    def _approve(self, session: Session, ticket_id: str, op: Op) -> bool:
        pending = self._pending(session, ticket_id)
        if pending is None:
            return False
        text = screen_text(op.text) if op.text is not None else None
        reviews.approve(session, pending.id, reviewer=self._ctx(op).actor, text=text, now=op.at)
        self.clocks.refresh(session, ticket_id)
        self._deliver(session, op.at)
        return True

    def _reject(self, session: Session, ticket_id: str, op: Op) -> bool:
        pending = self._pending(session, ticket_id)
        if pending is None:
            return False
        reason: RejectReason = op.reason_code  # type: ignore[assignment]
        reviews.reject(
            session, pending.id, reviewer=self._ctx(op).actor, reason_code=reason, now=op.at
        )
        return True

    def _write(self, session: Session, ticket_id: str, op: Op) -> None:
        messages.write(session, ticket_id, op.text or "", self._ctx(op), internal=False)
        self._deliver(session, op.at)

    def _escalate(self, session: Session, ticket_id: str, op: Op) -> None:
        reviews.escalate(
            session, ticket_id, reviewer=self._ctx(op).actor, reason=op.text or "", now=op.at
        )

    def _status(self, session: Session, ticket_id: str, op: Op, action: StatusAction) -> bool:
        try:
            actions.change_status(session, ticket_id, action, self._ctx(op))
        except InvalidStateError:
            # E.g. solving a ticket a customer's follow-up has not reopened: the service's
            # own rule decides, and the refused action changed nothing that matters.
            return False
        return True

    def _await(self, session: Session, ticket_id: str, op: Op) -> bool:
        return self._status(session, ticket_id, op, "await_customer")

    def _solve(self, session: Session, ticket_id: str, op: Op) -> bool:
        return self._status(session, ticket_id, op, "solve")

    def _follow_up(self, session: Session, ticket_id: str, op: Op) -> None:
        ticket = tickets.get_ticket(session, ticket_id)
        history = view.history_of(view.load(session, ticket, self.policy, op.at).messages)
        result = self.pipeline.run(op.text or "", history=history)
        messages.follow_up(
            session,
            ticket_id,
            op.text or "",
            result,
            self._ctx(op),
            external_id=None,
            auto_send=self.service.runtime.auto_send,
        )

    def _respond(self, session: Session, ticket_id: str, op: Op) -> None:
        pending = self._pending(session, ticket_id)
        fit = pending is not None and not pending.needs_human
        if pending is not None and fit and op.u < self.approve_follow_up_draft:
            reviews.approve(session, pending.id, reviewer=self._ctx(op).actor, now=op.at)
            self.clocks.refresh(session, ticket_id)
            self._deliver(session, op.at)
            return
        self._write(session, ticket_id, op)

    def _link(self, session: Session, ticket_id: str, op: Op) -> bool:
        other = self.ids.get(op.other) if op.other is not None else None
        if other is None or other == ticket_id:
            return False
        actions.link(session, ticket_id, other, "incident", self._ctx(op))
        return True


def _help_label(planned: PlannedTicket) -> dict[str, object]:
    """What ``metadata.demo`` adds for a question asked on /help."""
    label: dict[str, object] = {"help_page": True}
    if planned.came_back_after is not None:
        label["came_back_after"] = planned.came_back_after
    return label
