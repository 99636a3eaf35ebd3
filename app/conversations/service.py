"""The conversation service: transactions, the pipeline and the outbox around the
actions of actions.py / messages.py.  Speaks the domain (tickets, messages, agents);
the HTTP edge is app/api/routes/conversations.py.  Follow-ups are follow_ups.py's;
what all parts share (collaborators, loading, the pipeline) is base.py's.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.conversations import actions, messages, view
from app.conversations.actions import StatusAction
from app.conversations.base import ConversationalPipeline
from app.conversations.follow_ups import FollowUp, FollowUps
from app.conversations.view import Conversation
from app.store import conversations as store
from app.store.conversations import LinkKind
from app.store.db import PlainTransaction, Transaction
from app.store.errors import InvalidInputError

__all__ = ["ConversationService", "ConversationalPipeline", "FollowUp"]


class ConversationService(FollowUps):
    """Messages and the agent's workflow on a ticket (follow-ups: see FollowUps)."""

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
            question = view.draft_input(self._load(session, ticket_id).messages)
        if question is None:
            raise InvalidInputError(f"ticket {ticket_id} has no customer message to draft for")
        result = self._run_pipeline(question.text, question.history)
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
