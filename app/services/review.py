"""Agent review actions (approve, reject, escalate) with idempotency and metrics.

An agent's edited text and reasons are stored, audited and (for edits) sent: secrets in
them are redacted here first, like a customer's message.

The store does the compare-and-set work; this layer runs each action under its
Idempotency-Key, counts outcomes only for actions that really ran (never for replays),
and wakes the outbox worker after an approval so the reply leaves at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from app.observability import Metrics
from app.services.field_screening import screen_text
from app.services.idempotent import (
    Action,
    IdempotencyRequest,
    Rendered,
    RenderError,
    run_action,
    run_once,
)
from app.store import reviews, tickets
from app.store.models import Draft, RejectReason, Ticket

if TYPE_CHECKING:
    from app.answers.index import IndexEntry
    from app.answers.service import ReusableAnswers


class ReviewService:
    def __init__(
        self,
        factory: sessionmaker[Session],
        metrics: Metrics,
        *,
        wake_outbox: Callable[[], None] = lambda: None,
        answers: ReusableAnswers | None = None,
    ) -> None:
        self.factory = factory
        self.metrics = metrics
        self.wake_outbox = wake_outbox
        # An approved (or edited) cited reply becomes a reusable answer (app/answers/).
        self.answers = answers

    def _run(
        self, idem: IdempotencyRequest | None, action: Action, render_error: RenderError
    ) -> tuple[Rendered, bool]:
        if idem is None:
            return run_action(self.factory, action), False
        outcome = run_once(self.factory, idem, action, render_error)
        return outcome.response, outcome.replayed

    def approve(
        self,
        draft_id: str,
        *,
        reviewer: str,
        text: str | None,
        expected_version: int | None,
        idem: IdempotencyRequest | None,
        render: Callable[[Draft], Rendered],
        render_error: RenderError,
    ) -> tuple[Rendered, bool]:
        approved: list[Draft] = []
        learned: list[IndexEntry] = []

        def action(session: Session) -> Rendered:
            draft = reviews.approve(
                session,
                draft_id,
                reviewer=reviewer,
                text=screen_text(text),
                expected_version=expected_version,
            )
            approved.append(draft)
            if self.answers is not None:
                entry = self.answers.record_approval(session, draft)
                learned.extend([entry] if entry else [])
            return render(draft)

        rendered, replayed = self._run(idem, action, render_error)
        if approved and rendered.status == 200:
            draft = approved[0]
            edited = draft.final_text is not None and draft.final_text != draft.text
            self.metrics.drafts_decided.labels(outcome="edited" if edited else "approved").inc()
            self.wake_outbox()
            if self.answers is not None:
                for entry in learned:
                    self.answers.index_learned(entry)
        return rendered, replayed

    def reject(
        self,
        draft_id: str,
        *,
        reviewer: str,
        reason_code: RejectReason,
        reason: str | None,
        idem: IdempotencyRequest | None,
        render: Callable[[Draft], Rendered],
        render_error: RenderError,
    ) -> tuple[Rendered, bool]:
        done: list[Draft] = []

        def action(session: Session) -> Rendered:
            draft = reviews.reject(
                session,
                draft_id,
                reviewer=reviewer,
                reason_code=reason_code,
                reason=screen_text(reason),
            )
            done.append(draft)
            return render(draft)

        rendered, replayed = self._run(idem, action, render_error)
        if done and rendered.status == 200:
            self.metrics.drafts_decided.labels(outcome="rejected").inc()
        return rendered, replayed

    def escalate(
        self,
        ticket_id: str,
        *,
        reviewer: str,
        reason: str,
        team: str | None,
        idem: IdempotencyRequest | None,
        render: Callable[[Ticket], Rendered],
        render_error: RenderError,
    ) -> tuple[Rendered, bool]:
        done: list[Ticket] = []

        def action(session: Session) -> Rendered:
            reviews.escalate(
                session, ticket_id, reviewer=reviewer, reason=screen_text(reason), team=team
            )
            ticket = tickets.get_ticket(session, ticket_id)
            done.append(ticket)
            return render(ticket)

        rendered, replayed = self._run(idem, action, render_error)
        if done and rendered.status == 200:
            self.metrics.drafts_decided.labels(outcome="escalated").inc()
        return rendered, replayed
