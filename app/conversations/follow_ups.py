"""Customer follow-ups: a message attaches to its ticket (or the ticket it was merged
into) and a new draft sees the whole conversation.

Normally the pipeline drafts the follow-up at once, with the conversation before it as
history.  A ticket still waiting for its first draft (``drafting``: the drafting worker
writes it) only gets the message: the worker drafts once, for the whole conversation,
instead of two drafts racing.  A follow-up in which a secret was redacted is drafted at
once all the same, because only the pipeline sees the original and knows a secret was
pasted (as at ticket creation, services/tickets.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.conversations import actions, messages, view
from app.conversations.base import ServiceBase
from app.conversations.view import Conversation
from app.store import conversations as store
from app.store import tickets
from app.store.db import PlainTransaction, Transaction
from app.store.errors import NotFoundError
from app.store.models import Draft, Ticket
from app.triage.draft.protocol import Turn
from app.triage.results import AskResult


@dataclass(frozen=True)
class FollowUp:
    """The conversation a follow-up was answered with, and whether it was new (False:
    a redelivery of an already stored ``external_id``, which changed nothing)."""

    conversation: Conversation
    new: bool


@dataclass(frozen=True)
class _Prepared:
    text: str
    target: str  # the ticket it attaches to
    known: bool  # this external id is already stored
    history: list[Turn]
    # Left to the drafting worker: the ticket awaits its first draft, no secret in the text.
    deferred: messages.Screened | None


class FollowUps(ServiceBase):
    def follow_up(
        self,
        ticket_id: str,
        text: str,
        *,
        actor: str,
        owner: str | None = None,
        external_id: str | None = None,
        transaction: Transaction[FollowUp] | None = None,
    ) -> FollowUp:
        """Attach a customer follow-up and re-draft with the whole conversation.

        A ticket merged into another attaches to that one.  ``owner`` (an integration's
        token id) may only follow up on its own tickets.  A redelivered ``external_id``
        is stored once: the exclusive lock ``begin`` takes makes the second delivery see
        the first, and the unique constraint backs that up.
        """
        messages.screen(text)  # a blank message is refused before any work
        prepared = self._prepare_follow_up(ticket_id, text, owner, external_id)
        result = self._result(text, prepared)
        shown = self._shown(ticket_id, prepared.target, owner)
        outcomes: list[messages.FollowUpOutcome] = []

        def action(session: Session) -> FollowUp:
            if prepared.known:
                return FollowUp(self._load(session, shown), new=False)
            outcome = self._attach(session, prepared, result, actor, external_id)
            outcomes.append(outcome)
            return FollowUp(self._load(session, shown), new=not outcome.duplicate)

        followed = (transaction or PlainTransaction(self.sessions))(action)
        self._after(outcomes)
        return followed

    def follow_up_now(
        self,
        ticket_id: str,
        text: str,
        *,
        actor: str,
        external_id: str,
        meta: Mapping[str, Any] | None = None,
        on_stored: Callable[[Session, str], None] | None = None,
    ) -> str:
        """A follow-up from a channel's own intake (a reply in a Slack thread), for
        callers already on a worker thread.  ``on_stored`` runs in the message's
        transaction with the ticket's id (the Slack intake records the event there, so a
        duplicate delivery rolls everything back by raising).  Returns the ticket id."""
        messages.screen(text)
        prepared = self._prepare_follow_up(ticket_id, text, None, external_id)
        target = prepared.target
        if prepared.known:
            if on_stored is not None:
                with self.sessions.begin() as session:
                    on_stored(session, target)
            return target
        result = self._result(text, prepared)
        with self.sessions.begin() as session:
            outcome = self._attach(session, prepared, result, actor, external_id, meta)
            if on_stored is not None:
                on_stored(session, target)
        self._after([outcome])
        return target

    def _result(self, text: str, prepared: _Prepared) -> AskResult | None:
        """The pipeline's run on a follow-up that is drafted now (None: nothing to run)."""
        if prepared.known or prepared.deferred is not None:
            return None
        return self._run_pipeline(text, prepared.history)

    def _attach(
        self,
        session: Session,
        prepared: _Prepared,
        result: AskResult | None,
        actor: str,
        external_id: str | None,
        meta: Mapping[str, Any] | None = None,
    ) -> messages.FollowUpOutcome:
        ctx = self._ctx(actor)
        if result is None:
            assert prepared.deferred is not None
            return messages.attach_while_drafting(
                session, prepared.target, prepared.deferred, ctx, external_id=external_id, meta=meta
            )
        return messages.follow_up(
            session,
            prepared.target,
            prepared.text,
            result,
            ctx,
            external_id=external_id,
            auto_send=self.auto_send,
            meta=meta,
        )

    def _after(self, outcomes: list[messages.FollowUpOutcome]) -> None:
        """After commit: wake the worker that acts next on the ticket."""
        drafts: list[Draft] = [o.draft for o in outcomes if o.draft is not None]
        if any(d.status == "approved" for d in drafts):
            self.wake_outbox()
        if any(o.deferred and not o.duplicate for o in outcomes):
            self.wake_drafting()

    def ticket_for(self, channel: str, external_ref: str) -> str | None:
        """The oldest ticket of ``channel`` with this conversation reference (a Slack
        thread), or None."""
        with self.sessions() as session:
            return session.scalar(
                select(Ticket.id)
                .where(Ticket.channel == channel, Ticket.external_ref == external_ref)
                .order_by(Ticket.created_at, Ticket.id)
                .limit(1)
            )

    def _shown(self, ticket_id: str, target: str, owner: str | None) -> str:
        """The ticket whose view answers a follow-up: the one it attached to, unless an
        integration posted to its own ticket merged into one it did not create (it never
        reads another integration's conversation)."""
        if owner is None or target == ticket_id:
            return target
        with self.sessions() as session:
            creator = session.scalar(select(Ticket.created_by).where(Ticket.id == target))
        return target if creator == owner else ticket_id

    def _prepare_follow_up(
        self, ticket_id: str, text: str, owner: str | None, external_id: str | None
    ) -> _Prepared:
        """The ticket to attach to, whether the message is already stored, the history,
        and whether the drafting worker will draft it."""
        with self.sessions() as session:
            source = tickets.get_ticket(session, ticket_id)
            if owner is not None and source.created_by != owner:
                raise NotFoundError(f"ticket {ticket_id} not found")
            target = actions.root_of(session, ticket_id)
            if external_id is not None and store.by_external_id(session, target, external_id):
                return _Prepared(text, target, known=True, history=[], deferred=None)
            conversation = self._load(session, target)
        deferred = None
        if conversation.ticket.status == "drafting":
            screened = messages.screen(text)
            deferred = None if screened.redactions else screened
        return _Prepared(text, target, False, view.history_of(conversation.messages), deferred)
