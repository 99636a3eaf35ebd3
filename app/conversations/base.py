"""What every part of the conversation service shares: its collaborators, the action
context, loading a ticket's conversation and running the pipeline with a fallback."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from app.conversations import view
from app.conversations.actions import Context
from app.conversations.policy import SlaPolicy
from app.conversations.view import Conversation
from app.operations.autosend.gate import AutoSendGate
from app.store import tickets
from app.store.columns import utcnow
from app.store.db import PlainTransaction
from app.store.errors import NotFoundError
from app.triage.draft.protocol import Turn
from app.triage.results import AskResult

log = logging.getLogger(__name__)


class ConversationalPipeline(Protocol):
    def run(self, message: str, *, history: Sequence[Turn] = ()) -> AskResult: ...


class ServiceBase:
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
        wake_drafting: Callable[[], None] = lambda: None,
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
        self.wake_drafting = wake_drafting
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

    def view(self, ticket_id: str, *, owner: str | None = None) -> Conversation:
        """The conversation; with ``owner`` (an integration's token id) only its own tickets."""
        with self.sessions() as session:
            conversation = self._load(session, ticket_id)
        if owner is not None and conversation.ticket.created_by != owner:
            # The same answer as for a ticket that does not exist: ids are not probeable.
            raise NotFoundError(f"ticket {ticket_id} not found")
        return conversation

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
