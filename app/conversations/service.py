"""The conversation service: transactions, the pipeline and the outbox around the
actions of actions.py / messages.py.  Speaks the domain (tickets, messages, agents);
the HTTP edge is app/api/routes/conversations.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.autosend.gate import AutoSendGate
from app.conversations import actions, messages, view
from app.conversations.actions import Context, StatusAction
from app.conversations.policy import SlaPolicy
from app.conversations.view import Conversation
from app.store import conversations as store
from app.store import tickets
from app.store.columns import utcnow
from app.store.conversations import LinkKind
from app.store.db import PlainTransaction, Transaction
from app.store.errors import InvalidInputError, NotFoundError
from app.store.models import Draft, Ticket
from app.triage.draft.protocol import Turn
from app.triage.results import AskResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FollowUp:
    """The conversation a follow-up was answered with, and whether it was new (False:
    a redelivery of an already stored ``external_id``, which changed nothing)."""

    conversation: Conversation
    new: bool


class ConversationalPipeline(Protocol):
    def run(self, message: str, *, history: Sequence[Turn] = ()) -> AskResult: ...


class ConversationService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        pipelines: Sequence[ConversationalPipeline],
        *,
        policy: SlaPolicy,
        team_for: Callable[[str], str | None],
        categories: frozenset[str] | None = None,
        auto_send: AutoSendGate | None = None,
        wake_outbox: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if not pipelines:
            raise ValueError("at least one pipeline is needed to draft follow-ups")
        self.sessions = sessions
        # The configured pipeline first; the offline one takes over if it fails.
        self.pipelines = list(dict.fromkeys(pipelines))
        self.policy = policy
        self.team_for = team_for
        self.categories = categories
        self.auto_send = auto_send or AutoSendGate.off()
        self.wake_outbox = wake_outbox
        self.clock = clock

    def _ctx(self, actor: str, expected_version: int | None = None) -> Context:
        return Context(actor, self.clock(), self.policy, expected_version)

    def _load(self, session: Session, ticket_id: str) -> Conversation:
        ticket = tickets.get_ticket(session, ticket_id)
        return view.load(session, ticket, self.policy, self.clock())

    def _act(self, ticket_id: str, act: Callable[[Session], object]) -> Conversation:
        """Run one action in a transaction; return the ticket's view as it left it."""

        def work(session: Session) -> Conversation:
            act(session)
            return self._load(session, ticket_id)

        return PlainTransaction(self.sessions)(work)

    # -- reads ------------------------------------------------------------------------
    def view(self, ticket_id: str, *, owner: str | None = None) -> Conversation:
        """The conversation; with ``owner`` (an integration's token id) only its own tickets."""
        with self.sessions() as session:
            conversation = self._load(session, ticket_id)
        if owner is not None and conversation.ticket.created_by != owner:
            # The same answer as for a ticket that does not exist: ids are not probeable.
            raise NotFoundError(f"ticket {ticket_id} not found")
        return conversation

    # -- messages ---------------------------------------------------------------------
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
        target, known, history = self._prepare_follow_up(ticket_id, owner, external_id)
        result = None if known else self._run_pipeline(text, history)
        shown = self._shown(ticket_id, target, owner)
        drafted: list[Draft] = []

        def action(session: Session) -> FollowUp:
            if result is None:
                return FollowUp(self._load(session, shown), new=False)
            outcome = self._attach(session, target, text, result, actor, external_id)
            drafted.extend([outcome.draft] if outcome.draft else [])
            return FollowUp(self._load(session, shown), new=not outcome.duplicate)

        followed = (transaction or PlainTransaction(self.sessions))(action)
        if any(d.status == "approved" for d in drafted):
            self.wake_outbox()
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
        target, known, history = self._prepare_follow_up(ticket_id, None, external_id)
        if known:
            if on_stored is not None:
                with self.sessions.begin() as session:
                    on_stored(session, target)
            return target
        result = self._run_pipeline(text, history)
        with self.sessions.begin() as session:
            outcome = self._attach(session, target, text, result, actor, external_id, meta)
            if on_stored is not None:
                on_stored(session, target)
        if outcome.draft is not None and outcome.draft.status == "approved":
            self.wake_outbox()
        return target

    def _attach(
        self,
        session: Session,
        target: str,
        text: str,
        result: AskResult,
        actor: str,
        external_id: str | None,
        meta: Mapping[str, Any] | None = None,
    ) -> messages.FollowUpOutcome:
        return messages.follow_up(
            session,
            target,
            text,
            result,
            self._ctx(actor),
            external_id=external_id,
            auto_send=self.auto_send,
            meta=meta,
        )

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
        self, ticket_id: str, owner: str | None, external_id: str | None
    ) -> tuple[str, bool, list[Turn]]:
        """The ticket to attach to, whether the message is already stored, the history."""
        with self.sessions() as session:
            source = tickets.get_ticket(session, ticket_id)
            if owner is not None and source.created_by != owner:
                raise NotFoundError(f"ticket {ticket_id} not found")
            target = actions.root_of(session, ticket_id)
            if external_id is not None and store.by_external_id(session, target, external_id):
                return target, True, []
            return target, False, view.history_of(self._load(session, target).messages)

    def _run_pipeline(self, text: str, history: list[Turn]) -> AskResult:
        failure: Exception | None = None
        for pipeline in self.pipelines:
            try:
                return pipeline.run(text, history=history)
            except Exception as exc:  # an LLM outage: the offline pipeline drafts instead
                log.exception("pipeline failed on a follow-up; trying the next one")
                failure = exc
        assert failure is not None
        raise failure

    def write(
        self,
        ticket_id: str,
        text: str,
        *,
        internal: bool,
        actor: str,
        expected_version: int | None = None,
        transaction: Transaction[Conversation] | None = None,
    ) -> Conversation:
        """An agent's handwritten reply (sent once: with a keyed ``transaction`` a retry
        replays instead of running again) or an internal note (never sent, never shown
        to the customer or drafted from)."""

        def action(session: Session) -> Conversation:
            ctx = self._ctx(actor, expected_version)
            messages.write(session, ticket_id, text, ctx, internal=internal)
            return self._load(session, ticket_id)

        conversation = (transaction or PlainTransaction(self.sessions))(action)
        if not internal:
            self.wake_outbox()
        return conversation

    def redraft(
        self, ticket_id: str, *, actor: str, expected_version: int | None = None
    ) -> Conversation:
        """A new draft for the latest customer message, with the conversation before it."""
        with self.sessions() as session:
            entries = self._load(session, ticket_id).messages
        customer = [i for i, m in enumerate(entries) if m.kind == "customer"]
        if not customer:
            raise InvalidInputError(f"ticket {ticket_id} has no customer message to draft for")
        last = customer[-1]
        result = self._run_pipeline(entries[last].text, view.history_of(entries[:last]))
        conversation = self._act(
            ticket_id,
            lambda s: messages.redraft(
                s,
                ticket_id,
                result,
                self._ctx(actor, expected_version),
                auto_send=self.auto_send,
            ),
        )
        if conversation.ticket.status == "approved":
            self.wake_outbox()
        return conversation

    # -- workflow -------------------------------------------------------------------
    def assign(
        self,
        ticket_id: str,
        *,
        actor: str,
        me: str,
        assignee: str | None,
        take: bool = False,
        expected_version: int | None = None,
    ) -> Conversation:
        """``take``: to ``me`` unless someone has it; else to ``assignee`` (None: nobody)."""
        who = me if take else assignee

        def act(session: Session) -> None:
            if who is not None and who != me and not store.assignable(session, who):
                raise InvalidInputError(f"no agent named {who!r} can be assigned tickets")
            actions.assign(session, ticket_id, who, self._ctx(actor, expected_version), take=take)

        return self._act(ticket_id, act)

    def recategorize(
        self,
        ticket_id: str,
        *,
        actor: str,
        category: str | None,
        priority: str | None,
        expected_version: int | None = None,
    ) -> Conversation:
        if category is not None and self.categories is not None and category not in self.categories:
            raise InvalidInputError(
                f"unknown category {category!r}; use one of {', '.join(sorted(self.categories))}"
            )
        return self._act(
            ticket_id,
            lambda s: actions.recategorize(
                s,
                ticket_id,
                self._ctx(actor, expected_version),
                category=category,
                priority=priority,
                team_for=self.team_for,
            ),
        )

    def change_status(
        self,
        ticket_id: str,
        action: StatusAction,
        *,
        actor: str,
        expected_version: int | None = None,
    ) -> Conversation:
        return self._act(
            ticket_id,
            lambda s: actions.change_status(
                s, ticket_id, action, self._ctx(actor, expected_version)
            ),
        )

    def merge(
        self, ticket_id: str, into: str, *, actor: str, expected_version: int | None = None
    ) -> Conversation:
        """Merge ``ticket_id`` into ``into``; returns the target's conversation."""
        with self.sessions.begin() as session:
            target = actions.merge(session, ticket_id, into, self._ctx(actor, expected_version))
            return self._load(session, target)

    def link(
        self,
        ticket_id: str,
        other: str,
        *,
        actor: str,
        kind: LinkKind = "incident",
        expected_version: int | None = None,
    ) -> Conversation:
        return self._act(
            ticket_id,
            lambda s: actions.link(s, ticket_id, other, kind, self._ctx(actor, expected_version)),
        )
