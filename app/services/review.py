"""Agent review actions (approve, reject, escalate) with their metrics and side effects.

An agent's edited text and reasons are stored, audited and (for edits) sent: secrets in
them are redacted here first, like a customer's message.

The store does the compare-and-set work and raises the domain errors (not found,
conflict, invalid state).  This layer runs each action in the caller's ``Transaction``
(the API edge passes one that also stores the Idempotency-Key's response), counts
outcomes only for actions that ran (a replayed request never reaches a service), and
wakes the outbox worker after an approval so the reply leaves at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from app.observability import Metrics
from app.services.field_screening import screen_text
from app.store import reviews, tickets
from app.store.db import PlainTransaction, Transaction
from app.store.models import Draft, RejectReason, Ticket

if TYPE_CHECKING:
    from app.answers.index import IndexEntry
    from app.answers.service import ReusableAnswers
    from app.conversations.clocks import SlaClocks


class ReviewService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        metrics: Metrics,
        *,
        wake_outbox: Callable[[], None] = lambda: None,
        answers: ReusableAnswers | None = None,
        clocks: SlaClocks | None = None,
    ) -> None:
        self.sessions = sessions
        # An approval is a reply sent: the ticket's stored SLA clocks move on with it.
        self.clocks = clocks
        self.metrics = metrics
        self.wake_outbox = wake_outbox
        # An approved (or edited) cited reply becomes a reusable answer (app/answers/).
        self.answers = answers

    def approve(
        self,
        draft_id: str,
        *,
        reviewer: str,
        text: str | None,
        expected_version: int | None,
        transaction: Transaction[Draft] | None = None,
    ) -> Draft:
        """The approved draft; raises the store's domain errors (the draft is unchanged)."""
        learned: list[IndexEntry] = []

        def action(session: Session) -> Draft:
            draft = reviews.approve(
                session,
                draft_id,
                reviewer=reviewer,
                text=screen_text(text),
                expected_version=expected_version,
            )
            if self.clocks is not None:
                self.clocks.refresh(session, draft.ticket_id)
            if self.answers is not None:
                entry = self.answers.record_approval(session, draft)
                learned.extend([entry] if entry else [])
            return draft

        draft = (transaction or PlainTransaction(self.sessions))(action)
        edited = draft.final_text is not None and draft.final_text != draft.text
        self.metrics.drafts_decided.labels(outcome="edited" if edited else "approved").inc()
        self.wake_outbox()
        if self.answers is not None:
            for entry in learned:
                self.answers.index_learned(entry)
        return draft

    def reject(
        self,
        draft_id: str,
        *,
        reviewer: str,
        reason_code: RejectReason,
        reason: str | None,
        transaction: Transaction[Draft] | None = None,
    ) -> Draft:
        """The rejected draft; raises the store's domain errors (the draft is unchanged)."""

        def action(session: Session) -> Draft:
            return reviews.reject(
                session,
                draft_id,
                reviewer=reviewer,
                reason_code=reason_code,
                reason=screen_text(reason),
            )

        draft = (transaction or PlainTransaction(self.sessions))(action)
        self.metrics.drafts_decided.labels(outcome="rejected").inc()
        return draft

    def escalate(
        self,
        ticket_id: str,
        *,
        reviewer: str,
        reason: str,
        team: str | None,
        transaction: Transaction[Ticket] | None = None,
    ) -> Ticket:
        """The escalated ticket; raises the store's domain errors (the ticket is unchanged)."""

        def action(session: Session) -> Ticket:
            reviews.escalate(
                session, ticket_id, reviewer=reviewer, reason=screen_text(reason), team=team
            )
            return tickets.get_ticket(session, ticket_id)

        ticket = (transaction or PlainTransaction(self.sessions))(action)
        self.metrics.drafts_decided.labels(outcome="escalated").inc()
        return ticket
