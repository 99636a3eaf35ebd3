"""The drafting worker drafts the conversation, not just the ticket's first message: a
follow-up that arrives before (or while) the worker drafts is answered with the whole
conversation as history, internal notes never included, and a draft that never saw the
follow-up is never stored.  Real SQLite and PostgreSQL, the real conversation service;
only the pipeline is scripted (it records what it was given)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select

from app.conversations import messages
from app.conversations.actions import Context
from app.conversations.policy import load_sla_policy
from app.conversations.service import ConversationService
from app.services.runtime import Runtime
from app.store import tickets as ticket_store
from app.store.columns import utcnow
from app.store.models import AuditLog
from app.triage.draft.protocol import Turn
from app.triage.results import AskResult
from tests.app.services.test_drafting import (
    Clock,
    RuntimeFor,
    ScriptedPipeline,
    _drafting_ticket,
    _worker,
    database_url,
    runtime_for,
)

__all__ = ["database_url", "runtime_for"]

FIRST = "How do I authenticate?"
FOLLOW_UP = "and in Python?"
NOTE = "Customer is on the legacy plan; check with billing."


class NotInTheRequest:
    """The conversation service's pipeline: a follow-up on a ticket still drafting must
    be left to the worker, never drafted in the request."""

    def run(self, message: str, *, history: Sequence[Turn] = ()) -> AskResult:
        raise AssertionError("drafted in the request instead of by the worker")


def _service(runtime: Runtime) -> ConversationService:
    return ConversationService(
        runtime.sessions,
        [NotInTheRequest()],
        policy=load_sla_policy(),
        team_for=lambda category: "integrations",
    )


def _drafts(runtime: Runtime, ticket_id: str) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        ticket = ticket_store.get_ticket(session, ticket_id)
        return [(d.text, d.status) for d in ticket.drafts]


def test_a_follow_up_before_the_first_draft_is_drafted_by_the_worker_with_the_history(
    runtime_for: RuntimeFor,
) -> None:
    llm = ScriptedPipeline("llm")
    runtime = runtime_for(llm, ScriptedPipeline("offline"))
    ticket_id = _drafting_ticket(runtime)
    service = _service(runtime)

    service.write(ticket_id, NOTE, internal=True, actor="tok_1:ana")
    followed = service.follow_up(ticket_id, FOLLOW_UP, actor="integration")
    assert followed.new
    assert followed.conversation.ticket.status == "drafting", "left to the worker"

    assert _worker(runtime, "w", Clock()).run_once() == 1
    # One draft, for the latest message, with the conversation before it (not the note).
    assert llm.calls == [FOLLOW_UP]
    assert llm.histories == [[Turn(role="user", content=FIRST)]]
    assert _drafts(runtime, ticket_id) == [("llm reply", "pending")]
    with runtime.sessions() as session:
        assert ticket_store.get_ticket(session, ticket_id).status == "pending_review"


def test_a_draft_overtaken_by_a_follow_up_is_dropped_and_the_ticket_drafted_again(
    runtime_for: RuntimeFor,
) -> None:
    arrived: list[str] = []

    class FollowedUpMidDraft(ScriptedPipeline):
        """The developer writes again while the model is still drafting the first answer."""

        def __init__(self, follow_up: Callable[[], object]) -> None:
            super().__init__("llm")
            self.follow_up = follow_up

        def run(self, message: str, *, history: Sequence[Turn] = ()) -> AskResult:
            result = super().run(message, history=history)
            if not arrived:
                arrived.append(message)
                self.follow_up()
            return result

    holder: list[ConversationService] = []
    ticket: list[str] = []
    llm = FollowedUpMidDraft(lambda: holder[0].follow_up(ticket[0], FOLLOW_UP, actor="slack:U1"))
    runtime = runtime_for(llm, ScriptedPipeline("offline"))
    holder.append(_service(runtime))
    ticket.append(_drafting_ticket(runtime))

    # One run_once: the stale draft is dropped, the ticket claimed again and re-drafted.
    assert _worker(runtime, "w", Clock()).run_once() == 1
    assert llm.calls == [FIRST, FOLLOW_UP]
    assert llm.histories == [[], [Turn(role="user", content=FIRST)]]
    assert _drafts(runtime, ticket[0]) == [("llm reply", "pending")]
    with runtime.sessions() as session:
        drafted = session.scalars(
            select(AuditLog.action).where(
                AuditLog.ticket_id == ticket[0], AuditLog.action == "draft_added"
            )
        ).all()
    assert len(drafted) == 1


def test_a_follow_up_just_after_the_workers_draft_sends_the_ticket_back_to_drafting(
    runtime_for: RuntimeFor,
) -> None:
    llm = ScriptedPipeline("llm")
    runtime = runtime_for(llm, ScriptedPipeline("offline"))
    ticket_id = _drafting_ticket(runtime)
    worker = _worker(runtime, "w", Clock())
    assert worker.run_once() == 1
    # The request saw `drafting`; by the time it stores the message the worker's draft
    # (which never saw it) is there: superseded, and the ticket drafted again.
    with runtime.sessions.begin() as session:
        ctx = Context("slack:U1", utcnow(), load_sla_policy())
        outcome = messages.attach_while_drafting(
            session, ticket_id, messages.screen(FOLLOW_UP), ctx, external_id="slack:C1:2.0"
        )
    assert outcome.deferred
    assert not outcome.duplicate
    assert _drafts(runtime, ticket_id) == [("llm reply", "superseded")]
    assert worker.run_once() == 1
    assert llm.histories[-1] == [Turn(role="user", content=FIRST)]
    assert llm.calls[-1] == FOLLOW_UP
    assert _drafts(runtime, ticket_id) == [("llm reply", "superseded"), ("llm reply", "pending")]
