"""The drafting worker: writes the draft of every ticket left in ``drafting``.

Tickets reach ``drafting`` when an LLM is configured (see services/tickets.py).  The
state is in the database, so a crash loses nothing: any process's worker picks the
ticket up.  Two workers never draft the same ticket at once: each claims the ticket
with a drafting lease (store/draft_leases.py, claimed as the outbox claims its
messages); a worker that dies mid-draft leaves the lease to run out, after which another
worker takes the ticket over, and a worker whose lease was taken over stores nothing.

The draft answers the conversation, not just the ticket's first message: the latest
customer message with everything before it as history (app/conversations/view.py), as
a re-draft in the request does.  A follow-up that arrives while a worker drafts makes
that draft stale: it is dropped and the ticket drafted again with the follow-up.

If the configured pipeline fails (an LLM outage the pipeline could not absorb, a bug),
the ticket is drafted by the offline pipeline instead, and if even that fails it is
escalated to a person: a ticket never stays in ``drafting`` forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.conversations import view
from app.conversations.clocks import SlaClocks
from app.conversations.view import DraftInput
from app.observability import Metrics, Stopwatch
from app.services.runtime import Runtime
from app.services.tickets import add_pipeline_draft, replace_triage
from app.store import draft_leases, reviews
from app.store.columns import utcnow
from app.store.draft_leases import DraftLease
from app.store.errors import StoreError
from app.store.models import Ticket
from app.triage.results import AskResult

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another worker took the ticket over while this one was drafting it."""


class DraftingWorker:
    def __init__(
        self,
        runtime: Runtime,
        metrics: Metrics,
        worker_id: str,
        *,
        lease_seconds: float,
        clock: Callable[[], datetime] = utcnow,
        clocks: SlaClocks | None = None,
    ) -> None:
        self.runtime = runtime
        self.clocks = clocks
        self.sessions = runtime.sessions
        self.metrics = metrics
        self.worker_id = worker_id
        self.actor = f"drafting:{worker_id}"
        self.lease = timedelta(seconds=lease_seconds)
        self.clock = clock

    def claim(self) -> DraftLease | None:
        """Lease the most urgent due ticket (None: nothing is due or all are leased)."""
        with self.sessions.begin() as session:
            leases = draft_leases.claim(session, self.worker_id, lease=self.lease, now=self.clock())
        return leases[0] if leases else None

    def run_once(self, limit: int = 20) -> int:
        """Draft the first due ticket this worker can claim; returns how many it drafted."""
        for _ in range(limit):
            lease = self.claim()
            if lease is None:
                return 0
            if self.draft_one(lease):
                return 1
        return 0

    def _release(self, lease: DraftLease) -> None:
        with self.sessions.begin() as session:
            draft_leases.release(session, lease)

    def draft_one(self, lease: DraftLease) -> bool:
        ticket_id = lease.ticket_id
        question = self._question(ticket_id)
        if question is None:
            self._release(lease)
            return False
        result = self._run_pipeline(ticket_id, question)
        try:
            with self.sessions.begin() as session:
                # First: a worker that lost its lease must not store a second draft.
                if not draft_leases.release(session, lease):
                    raise LeaseLost(ticket_id)
                if self._overtaken(session, ticket_id, question):
                    # A follow-up came in while drafting: this draft never saw it.  The
                    # lease is released with nothing stored; a ticket still drafting is
                    # claimed again (run_once goes on) and drafted with everything.
                    log.info("draft for %s dropped: a follow-up arrived meanwhile", ticket_id)
                    return False
                if result is None:
                    reviews.escalate(
                        session,
                        ticket_id,
                        reviewer=self.actor,
                        reason="automatic drafting failed; a person must answer",
                    )
                else:
                    ticket = session.get(Ticket, ticket_id)
                    if ticket is not None:
                        replace_triage(session, ticket, result, actor=self.actor)
                    stored = add_pipeline_draft(
                        session,
                        ticket_id,
                        result.draft,
                        auto_send=self.runtime.auto_send,
                        actor=self.actor,
                    )
                    if stored.status == "approved" and self.clocks is not None:
                        self.clocks.refresh(session, ticket_id)  # sent at once: a reply
        except LeaseLost:
            log.warning("draft for %s not stored: another worker took the ticket over", ticket_id)
            return False
        except StoreError as exc:
            # The ticket moved on meanwhile (escalated and reviewed, deleted): nothing
            # left to draft.  The lease is kept: were the ticket somehow still due, it is
            # retried only once the lease ends, never in a tight loop.
            log.warning("draft for %s not stored: %s", ticket_id, exc)
            return False
        if result is not None:
            self.metrics.drafts_created.labels(
                drafter=result.draft.provenance.drafter,
                needs_human="true" if result.draft.needs_human else "false",
            ).inc()
        log.info("ticket drafted", extra={"ticket_id": ticket_id, "escalated": result is None})
        return True

    def _question(self, ticket_id: str) -> DraftInput | None:
        """What the draft answers: the latest customer message, with the conversation
        before it (earlier messages, replies sent; never an internal note)."""
        with self.sessions() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None or ticket.status != "drafting":
                return None
            return view.draft_input(view.entries_of(session, ticket))

    @staticmethod
    def _overtaken(session: Session, ticket_id: str, question: DraftInput) -> bool:
        """Whether a customer message newer than ``question`` is on the ticket now."""
        ticket = session.get(Ticket, ticket_id, populate_existing=True)
        if ticket is None:
            return False  # gone: storing fails below, as it always did
        latest = view.draft_input(view.entries_of(session, ticket))
        return latest is not None and latest.message_id != question.message_id

    def _run_pipeline(self, ticket_id: str, question: DraftInput) -> AskResult | None:
        # The message is already redacted; see services/tickets.py for why that is safe.
        pipelines = [("configured", self.runtime.pipeline)]
        if self.runtime.screening is not self.runtime.pipeline:
            pipelines.append(("offline", self.runtime.screening))
        for name, pipeline in pipelines:
            try:
                with Stopwatch() as sw:
                    result = pipeline.run(question.text, history=question.history)
            except Exception:
                log.exception("%s pipeline failed for %s", name, ticket_id)
                continue
            self.metrics.drafting_seconds.labels(where="worker").observe(sw.seconds)
            return result
        return None
