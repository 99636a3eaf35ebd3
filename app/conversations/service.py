"""The conversation service: transactions, the pipeline and the outbox around the
actions of actions.py / messages.py.  Speaks the domain (tickets, messages, agents);
the HTTP edge is app/api/routes/conversations.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.conversations import actions, messages, view
from app.conversations.actions import Context, StatusAction
from app.conversations.policy import SlaPolicy
from app.conversations.view import Conversation
from app.services.idempotent import (
    IdempotencyRequest,
    Rendered,
    RenderError,
    claim,
    complete,
    release,
    run_action,
    run_once,
)
from app.store import conversations as store
from app.store import tickets
from app.store.columns import utcnow
from app.store.conversations import LinkKind
from app.store.errors import InvalidInputError, NotFoundError
from app.store.models import Draft, Ticket
from app.triage.drafting.base import Turn
from app.triage.models import AskResult

log = logging.getLogger(__name__)


class ConversationalPipeline(Protocol):
    def run(self, message: str, *, history: Sequence[Turn] = ()) -> AskResult: ...


class ConversationService:
    def __init__(
        self,
        factory: sessionmaker[Session],
        pipelines: Sequence[ConversationalPipeline],
        *,
        policy: SlaPolicy,
        team_for: Callable[[str], str | None],
        categories: frozenset[str] | None = None,
        auto_send_min_confidence: float | None = None,
        wake_outbox: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if not pipelines:
            raise ValueError("at least one pipeline is needed to draft follow-ups")
        self.factory = factory
        # The configured pipeline first; the offline one takes over if it fails.
        self.pipelines = list(dict.fromkeys(pipelines))
        self.policy = policy
        self.team_for = team_for
        self.categories = categories
        self.auto_send = auto_send_min_confidence
        self.wake_outbox = wake_outbox
        self.clock = clock

    def _ctx(self, actor: str, expected_version: int | None = None) -> Context:
        return Context(actor, self.clock(), self.policy, expected_version)

    def _load(self, session: Session, ticket_id: str) -> Conversation:
        ticket = tickets.get_ticket(session, ticket_id)
        return view.load(session, ticket, self.policy, self.clock())

    def _act(self, ticket_id: str, act: Callable[[Session], object]) -> Conversation:
        """Run one action in a transaction; return the ticket's view as it left it."""
        with self.factory.begin() as session:
            act(session)
            return self._load(session, ticket_id)

    # -- reads ------------------------------------------------------------------------
    def view(self, ticket_id: str, *, owner: str | None = None) -> Conversation:
        """The conversation; with ``owner`` (an integration's token id) only its own tickets."""
        with self.factory() as session:
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
        render: Callable[[Conversation, bool], Rendered],
        render_error: RenderError,
        owner: str | None = None,
        external_id: str | None = None,
        idem: IdempotencyRequest | None = None,
    ) -> tuple[Rendered, bool]:
        """Attach a customer follow-up and re-draft with the whole conversation.

        A ticket merged into another attaches to that one.  ``render`` gets the
        conversation and whether the message is new (False: a redelivery of a stored
        ``external_id``, which changes nothing).  Returns the response and ``replayed``
        (an Idempotency-Key's stored response).
        """
        messages.screen(text)  # a blank message is refused before any work
        if idem is not None:
            replay = claim(self.factory, idem)
            if replay is not None:
                return replay, True
        try:
            target, known, history = self._prepare_follow_up(ticket_id, owner, external_id)
            result = None if known else self._run_pipeline(text, history)
            shown = self._shown(ticket_id, target, owner)
        except BaseException:
            if idem is not None:
                release(self.factory, idem)
            raise
        drafted: list[Draft] = []

        def action(session: Session) -> Rendered:
            if result is None:
                return render(self._load(session, shown), False)
            outcome = self._attach(session, target, text, result, actor, external_id)
            drafted.extend([outcome.draft] if outcome.draft else [])
            return render(self._load(session, shown), not outcome.duplicate)

        try:
            if idem is None:
                rendered = run_action(self.factory, action)
            else:
                rendered = complete(self.factory, idem, action, render_error)
        except IntegrityError:
            # Two deliveries of one external id raced past the check: the unique
            # constraint let one through; this one is the duplicate.
            if external_id is None:
                raise
            with self.factory() as session:
                if store.by_external_id(session, target, external_id) is None:
                    raise
                return render(self._load(session, shown), False), False
        if any(d.status == "approved" for d in drafted):
            self.wake_outbox()
        return rendered, False

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
                with self.factory.begin() as session:
                    on_stored(session, target)
            return target
        result = self._run_pipeline(text, history)
        with self.factory.begin() as session:
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
            auto_send_min_confidence=self.auto_send,
            meta=meta,
        )

    def ticket_for(self, channel: str, external_ref: str) -> str | None:
        """The oldest ticket of ``channel`` with this conversation reference (a Slack
        thread), or None."""
        with self.factory() as session:
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
        with self.factory() as session:
            creator = session.scalar(select(Ticket.created_by).where(Ticket.id == target))
        return target if creator == owner else ticket_id

    def _prepare_follow_up(
        self, ticket_id: str, owner: str | None, external_id: str | None
    ) -> tuple[str, bool, list[Turn]]:
        """The ticket to attach to, whether the message is already stored, the history."""
        with self.factory() as session:
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
        expected_version: int | None,
        idem: IdempotencyRequest | None,
        render: Callable[[Conversation], Rendered],
        render_error: RenderError,
    ) -> tuple[Rendered, bool]:
        """An agent's handwritten reply (stored and sent once per Idempotency-Key) or an
        internal note (never sent, never shown to the customer or drafted from)."""
        sent: list[bool] = []

        def action(session: Session) -> Rendered:
            ctx = self._ctx(actor, expected_version)
            messages.write(session, ticket_id, text, ctx, internal=internal)
            sent.append(not internal)
            return render(self._load(session, ticket_id))

        if idem is None:
            rendered, replayed = run_action(self.factory, action), False
        else:
            outcome = run_once(self.factory, idem, action, render_error)
            rendered, replayed = outcome.response, outcome.replayed
        if any(sent) and 200 <= rendered.status < 300:
            self.wake_outbox()
        return rendered, replayed

    def redraft(
        self, ticket_id: str, *, actor: str, expected_version: int | None = None
    ) -> Conversation:
        """A new draft for the latest customer message, with the conversation before it."""
        with self.factory() as session:
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
                auto_send_min_confidence=self.auto_send,
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
        with self.factory.begin() as session:
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
