"""The drafting worker: writes the draft of every ticket left in ``drafting``.

Tickets reach ``drafting`` when an LLM is configured (see services/tickets.py).  The
state is in the database, so a crash loses nothing: any process's worker picks the
ticket up.  Two workers never draft the same ticket at once: each claims the ticket
with an idempotency record (scope ``worker:drafting``, key = ticket id) that works as a
lease — a worker that dies mid-draft leaves it in flight, and after ``lease_seconds``
another worker takes it over.

If the configured pipeline fails (an LLM outage the pipeline could not absorb, a bug),
the ticket is drafted by the offline pipeline instead, and if even that fails it is
escalated to a person: a ticket never stays in ``drafting`` forever.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from app.observability import Metrics, Stopwatch
from app.services.runtime import Runtime
from app.services.tickets import add_pipeline_draft, replace_triage
from app.store import idempotency, reviews
from app.store.errors import StoreError
from app.store.models import Ticket
from app.triage.results import AskResult

log = logging.getLogger(__name__)

SCOPE = "worker:drafting"


class DraftingWorker:
    def __init__(
        self, runtime: Runtime, metrics: Metrics, worker_id: str, *, lease_seconds: float
    ) -> None:
        self.runtime = runtime
        self.factory = runtime.factory
        self.metrics = metrics
        self.worker_id = worker_id
        self.actor = f"drafting:{worker_id}"
        self.lease = timedelta(seconds=lease_seconds)

    def due(self, limit: int = 20) -> list[str]:
        """Tickets waiting for a draft, most urgent first (the queue index covers this)."""
        stmt = (
            select(Ticket.id)
            .where(Ticket.status == "drafting")
            .order_by(Ticket.priority, Ticket.created_at, Ticket.id)
            .limit(limit)
        )
        with self.factory() as session:
            return list(session.scalars(stmt))

    def run_once(self, limit: int = 20) -> int:
        """Draft the first due ticket this worker can claim; returns how many it drafted."""
        for ticket_id in self.due(limit):
            if self.draft_one(ticket_id):
                return 1
        return 0

    def claim(self, ticket_id: str) -> bool:
        """Take the ticket's drafting lease (False: another worker holds or finished it)."""
        try:
            with self.factory.begin() as session:
                outcome = idempotency.begin(
                    session,
                    SCOPE,
                    ticket_id,
                    idempotency.fingerprint(SCOPE, ticket_id),
                    lease=self.lease,
                )
        except idempotency.IdempotencyInFlight:
            return False  # another worker holds the lease
        # A replay means another worker already finished this ticket.
        return isinstance(outcome, idempotency.Started)

    def _release(self, ticket_id: str, note: bytes) -> None:
        with self.factory.begin() as session:
            idempotency.finish(session, SCOPE, ticket_id, 200, note, content_type="text/plain")

    def draft_one(self, ticket_id: str) -> bool:
        if not self.claim(ticket_id):
            return False
        with self.factory() as session:
            ticket = session.get(Ticket, ticket_id)
            message = ticket.message if ticket is not None else None
            still_drafting = ticket is not None and ticket.status == "drafting"
        if message is None or not still_drafting:
            self._release(ticket_id, b"nothing to draft")
            return False
        result = self._run_pipeline(ticket_id, message)
        try:
            with self.factory.begin() as session:
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
                    add_pipeline_draft(
                        session,
                        ticket_id,
                        result.draft,
                        auto_send_min_confidence=self.runtime.settings.auto_send_min_confidence,
                        actor=self.actor,
                    )
                idempotency.finish(
                    session, SCOPE, ticket_id, 200, b"drafted", content_type="text/plain"
                )
        except StoreError as exc:
            # The ticket moved on meanwhile (escalated and reviewed, deleted): nothing
            # left to draft, and retrying would fail the same way.
            log.warning("draft for %s not stored: %s", ticket_id, exc)
            self._release(ticket_id, b"not stored")
            return False
        if result is not None:
            self.metrics.drafts_created.labels(
                drafter=result.draft.provenance.drafter,
                needs_human="true" if result.draft.needs_human else "false",
            ).inc()
        log.info("ticket drafted", extra={"ticket_id": ticket_id, "escalated": result is None})
        return True

    def _run_pipeline(self, ticket_id: str, message: str) -> AskResult | None:
        # The message is already redacted; see services/tickets.py for why that is safe.
        pipelines = [("configured", self.runtime.pipeline)]
        if self.runtime.screening is not self.runtime.pipeline:
            pipelines.append(("offline", self.runtime.screening))
        for name, pipeline in pipelines:
            try:
                with Stopwatch() as sw:
                    result = pipeline.run(message)
            except Exception:
                log.exception("%s pipeline failed for %s", name, ticket_id)
                continue
            self.metrics.drafting_seconds.labels(where="worker").observe(sw.seconds)
            return result
        return None
