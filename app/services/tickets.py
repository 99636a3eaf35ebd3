"""Tickets: screen a message, store it with its draft, answer the public widget.

Drafting policy.  Without an LLM the whole pipeline is offline and fast, so a ticket is
created with its draft in the same request (status ``pending_review``).  A draft that
needs a human (security exposure, incident, account-specific, weak documentation…)
still goes to ``pending_review``: the agent sees it in the queue with its ``reason`` and
the holding reply, and priority already puts the urgent ones first.  With an LLM, the
request runs the offline pipeline only (redaction, signals, a first triage), stores the
ticket as ``drafting`` and the drafting worker writes the LLM draft, replacing the triage
with the LLM's.  Exception: a message in which secrets were redacted is finished offline
at once, because the worker only ever sees the redacted text and would no longer know a
secret was there (the reply for those is the fixed rotate-your-credentials one anyway).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.observability import Metrics, Stopwatch
from app.operations.autosend.gate import AUTO_SEND_ACTOR, AutoSendGate
from app.services.asking import AskAnswer, answered, handed_off, shown_directly
from app.services.field_screening import screen_fields
from app.services.review_queue import Workflow, queue_page_json
from app.services.runtime import Runtime
from app.store import askers, audit, contacts, reviews, self_service, tickets
from app.store.columns import utcnow
from app.store.contacts import Contact
from app.store.db import PlainTransaction, Transaction
from app.store.errors import NotFoundError
from app.store.models import AuditLog, Draft, ReviewEvent, Ticket
from app.store.self_service import Feedback
from app.store.tickets import QueueQuery
from app.triage.draft.compose import without_sources
from app.triage.results import AskResult, DraftReply

if TYPE_CHECKING:
    from app.conversations.clocks import SlaClocks

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class NewTicket:
    """An inbound message as received; ``message`` is the raw text and is never stored."""

    message: str
    channel: str = "api"
    reporter: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    external_ref: str | None = None
    # The creating API token's id; an integration reads only the tickets it created.
    created_by: str | None = None


@dataclass(frozen=True)
class Screened:
    result: AskResult
    # True: stored as `drafting`; the drafting worker writes the (LLM) draft later.
    deferred: bool


@dataclass(frozen=True)
class TicketView:
    ticket: Ticket
    events: list[ReviewEvent]


def add_pipeline_draft(
    session: Session,
    ticket_id: str,
    draft: DraftReply,
    *,
    auto_send: AutoSendGate,
    actor: str = "system:drafting",
    now: datetime | None = None,
) -> Draft:
    """Store a pipeline draft on the ticket; auto-approve it when the policy allows.

    The auto-send gate (app/operations/autosend) only ever sends a confident draft that does not
    need a human, and the send goes through the normal approval, so it is audited and
    queued in the outbox like an agent's.
    """
    stored = tickets.add_draft(
        session,
        ticket_id,
        text=draft.text,
        citations=[c.model_dump(mode="json") for c in draft.citations],
        confidence=draft.confidence,
        needs_human=draft.needs_human,
        reason=draft.reason,
        provenance=draft.provenance.model_dump(mode="json"),
        actor=actor,
        now=now,
    )
    if auto_send.decide(session, stored, now=now):
        stored = reviews.approve(session, stored.id, reviewer=AUTO_SEND_ACTOR, now=now)
    return stored


def replace_triage(session: Session, ticket: Ticket, result: AskResult, *, actor: str) -> None:
    """Adopt the drafting run's triage (the LLM's) for a ticket still in ``drafting``."""
    triage = result.triage.model_dump(mode="json")
    moved = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == "drafting")
        .values(
            triage=triage,
            category=result.triage.category,
            priority=result.triage.priority,
            team=result.triage.team,
            updated_at=utcnow(),
        )
        .returning(Ticket.id)
        .execution_options(synchronize_session=False)
    ).first()
    if moved is not None:
        audit.record(
            session,
            ticket_id=ticket.id,
            actor=actor,
            action="triage_updated",
            detail={
                "category": result.triage.category,
                "priority": result.triage.priority,
                "team": result.triage.team,
                "classifier": result.triage.classifier,
            },
        )


class TicketService:
    """Creation, lookup, the review queue and the public ask flow."""

    def __init__(
        self,
        runtime: Runtime,
        metrics: Metrics,
        *,
        pipeline_limiter: anyio.CapacityLimiter,
        wake_drafting: Callable[[], None] = lambda: None,
        wake_outbox: Callable[[], None] = lambda: None,
        clocks: SlaClocks | None = None,
    ) -> None:
        self.runtime = runtime
        # Starts each new ticket's SLA clocks, so the queue can sort by due time at once.
        self.clocks = clocks
        self.settings = runtime.settings
        self.sessions = runtime.sessions
        # One statement needs no transaction: no BEGIN/ROLLBACK round trips per read.
        self.reader = runtime.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.metrics = metrics
        self.limiter = pipeline_limiter
        self.wake_drafting = wake_drafting
        self.wake_outbox = wake_outbox

    # -- creation -------------------------------------------------------------------
    def screen(self, message: str) -> Screened:
        """Triage (and, offline, draft) one message; CPU-bound, call from a thread."""
        llm = self.settings.llm_enabled
        with Stopwatch() as sw:
            result = (self.runtime.screening if llm else self.runtime.pipeline).run(message)
        self.metrics.drafting_seconds.labels(where="request").observe(sw.seconds)
        return Screened(result, deferred=llm and not result.redactions)

    def store(
        self,
        session: Session,
        new: NewTicket,
        screened: Screened,
        *,
        actor: str,
        now: datetime | None = None,
    ) -> Ticket:
        """Write the screened ticket (and its draft unless deferred) in the caller's tx.

        ``now`` (default: the clock) dates the ticket and its draft; a replayed history
        (app/operations/demo) passes its own instants."""
        result = screened.result
        # The pipeline screened the message; the side fields are screened here.
        fields = screen_fields(new.reporter, new.metadata, new.external_ref)
        ticket = tickets.create_ticket(
            session,
            channel=new.channel,
            reporter=fields.reporter,
            message=result.message,
            metadata=fields.metadata,
            triage=result.triage.model_dump(mode="json"),
            signals=result.signals.model_dump(mode="json"),
            redactions=[
                r.model_dump(mode="json") for r in [*result.redactions, *fields.redactions]
            ],
            status="drafting",
            external_ref=fields.external_ref,
            actor=actor,
            created_by=new.created_by,
            now=now,
        )
        if not screened.deferred:
            add_pipeline_draft(
                session,
                ticket.id,
                result.draft,
                auto_send=self.runtime.auto_send,
                now=now,
            )
        if self.clocks is not None:
            self.clocks.start(session, ticket)
        return tickets.get_ticket(session, ticket.id)

    def created(self, ticket: Ticket) -> None:
        """After commit: count the ticket and wake the worker that acts on it next."""
        self.metrics.tickets_created.labels(
            category=ticket.category or "unknown", priority=ticket.priority, channel=ticket.channel
        ).inc()
        if ticket.status == "drafting":
            self.wake_drafting()
        elif ticket.status == "approved":
            self.metrics.drafts_decided.labels(outcome="auto_approved").inc()
            self.wake_outbox()
        for draft in ticket.drafts:
            drafter = str(draft.provenance.get("drafter", "unknown"))
            needs = "true" if draft.needs_human else "false"
            self.metrics.drafts_created.labels(drafter=drafter, needs_human=needs).inc()

    async def create(
        self, new: NewTicket, *, actor: str, transaction: Transaction[Ticket] | None = None
    ) -> Ticket:
        """Screen and store one ticket (in ``transaction``), then count it and wake its worker."""
        screened = await self.in_pipeline(self.screen, new.message)

        def action(session: Session) -> Ticket:
            return self.store(session, new, screened, actor=actor)

        run = transaction or PlainTransaction(self.sessions)
        ticket = await anyio.to_thread.run_sync(run, action)
        self.created(ticket)
        return ticket

    def create_now(
        self,
        new: NewTicket,
        *,
        actor: str,
        on_stored: Callable[[Session, Ticket], None] | None = None,
    ) -> Ticket:
        """Synchronous creation for callers already on a worker thread (e.g. Slack).

        ``on_stored`` runs in the ticket's transaction (Slack records the event there, so
        a duplicate delivery rolls the whole ticket back by raising)."""
        screened = self.screen(new.message)
        with self.sessions.begin() as session:
            ticket = self.store(session, new, screened, actor=actor)
            if on_stored is not None:
                on_stored(session, ticket)
        self.created(ticket)
        return ticket

    async def in_pipeline(self, fn: Callable[[str], T], message: str) -> T:
        """Run CPU-bound pipeline work off the event loop, at most N at a time."""
        return await anyio.to_thread.run_sync(fn, message, limiter=self.limiter)

    # -- reads ----------------------------------------------------------------------
    def get(self, ticket_id: str) -> TicketView:
        with self.sessions() as session:
            ticket = tickets.get_ticket(session, ticket_id)
            return TicketView(ticket, reviews.list_events(session, ticket_id))

    def audit_trail(self, ticket_id: str) -> list[AuditLog]:
        with self.sessions() as session:
            if session.get(Ticket, ticket_id) is None:
                raise NotFoundError(f"ticket {ticket_id} not found")
            return audit.list_for_ticket(session, ticket_id)

    def queue(self, query: QueueQuery, workflow: Workflow | None = None) -> bytes:
        """A queue page as its JSON body (see services/review_queue.py)."""
        with self.reader.connect() as connection:
            return queue_page_json(connection, query, workflow)

    # -- public self-service --------------------------------------------------------
    def answer_or_hand_off(
        self, question: str, contact: Contact | None = None, asker: str | None = None
    ) -> AskAnswer:
        """Answer a confident, grounded draft directly; otherwise open a widget ticket.

        The full pipeline runs here even with an LLM: the visitor is waiting for the
        answer.  The writes are ``record_ask``'s."""
        with Stopwatch() as sw:
            result = self.runtime.pipeline.run(question)
        self.metrics.drafting_seconds.labels(where="ask").observe(sw.seconds)
        with self.sessions.begin() as session:
            answer, ticket = self.record_ask(session, result, contact=contact, asker=asker)
        if ticket is not None:
            self.created(ticket)
        self.metrics.ask.labels(outcome="handed_off" if answer.handed_off else "answered").inc()
        return answer

    def record_ask(
        self,
        session: Session,
        result: AskResult,
        *,
        contact: Contact | None = None,
        asker: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> tuple[AskAnswer, Ticket | None]:
        """/v1/ask's writes for a question the pipeline has run on, in the caller's tx.

        An answer is stored as a self-service answer; a handed-off question as a widget
        ticket with that same draft for an agent, the asker's ``contact`` and a
        conversation link token (app/store/contacts.py).  Either way an ``asker`` id is
        kept as a keyed hash (app/store/askers.py), so that deflection can tell whether the
        same asker opened a ticket after an answer.  ``metadata`` (added to the ticket's)
        and ``now`` let a replayed history (app/operations/demo) ask at its own instants.
        """
        draft = result.draft
        if shown_directly(draft, self.settings.ask_answer_min_confidence):
            stored = self_service.record_answer(
                session,
                question=result.message,
                answer=without_sources(draft.text),
                citations=[c.model_dump(mode="json") for c in draft.citations],
                confidence=draft.confidence,
                category=result.triage.category,
                language=result.triage.language,
                asker_key=askers.asker_key(session, asker),
                now=now,
            )
            return answered(draft, stored.id), None
        new = NewTicket(
            message=result.message, channel="widget", metadata={**(metadata or {}), "source": "ask"}
        )
        ticket = self.store(
            session, new, Screened(result, deferred=False), actor="public:ask", now=now
        )
        contact = contact or Contact()
        token = contacts.create(session, ticket.id, email=contact.email, name=contact.name, now=now)
        key = askers.asker_key(session, asker)
        if key is not None:
            askers.record_ticket(session, ticket.id, key, ticket.created_at)
        return handed_off(draft, result.triage.language, ticket.id, token), ticket

    def answer_feedback(self, answer_id: str, *, helpful: bool) -> None:
        """The asker's verdict on an answer they were shown (NotFoundError: no such answer)."""
        with self.sessions.begin() as session:
            verdict: Feedback = "helpful" if helpful else "not_helpful"
            self_service.give_feedback(session, answer_id, verdict)
        self.metrics.ask.labels(outcome=verdict).inc()

    async def ask(
        self, question: str, contact: Contact | None = None, asker: str | None = None
    ) -> AskAnswer:
        return await anyio.to_thread.run_sync(
            self.answer_or_hand_off, question, contact, asker, limiter=self.limiter
        )
