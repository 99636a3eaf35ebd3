"""Conversation actions on both backends: the assignment race, SLA clocks stored with a
controlled clock, merges that lose nothing."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.conversations.errors import TicketChanged
from app.conversations.policy import load_sla_policy
from app.conversations.service import ConversationService
from app.store import audit
from app.store.conversations import TicketState
from app.triage.draft.protocol import Turn
from app.triage.results import AskResult, DraftReply, Provenance, TriageResult
from app.triage.screen.signals import Signals
from tests.app.conftest import Seeder


class NoPipeline:
    def run(self, message: str, *, history: Sequence[Turn] = ()) -> AskResult:
        raise AssertionError("these actions never draft")


class CannedPipeline:
    """A pipeline that drafts the same reply for any follow-up (the store is under test)."""

    def run(self, message: str, *, history: Sequence[Turn] = ()) -> AskResult:
        return AskResult(
            triage=TriageResult(
                category="webhooks",
                confidence=0.9,
                priority="P3",
                team="integrations",
                language="en",
                sentiment="neutral",
            ),
            signals=Signals(),
            redactions=[],
            draft=DraftReply(
                text="Verify X-Grid-Signature.",
                confidence=0.8,
                needs_human=False,
                provenance=Provenance(drafter="offline"),
            ),
            message=message,
        )


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def service_for(
    sessions: sessionmaker[Session],
    clock: Clock | None = None,
    pipeline: NoPipeline | CannedPipeline | None = None,
) -> ConversationService:
    return ConversationService(
        sessions,
        [pipeline or NoPipeline()],
        policy=load_sla_policy(),
        team_for=lambda category: "platform",
        clock=clock or (lambda: datetime.now(UTC)),
    )


def test_two_agents_taking_one_ticket_one_wins(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    service = service_for(sessions)
    for _ in range(3):
        ticket_id = seed.ticket().ticket_id
        barrier = threading.Barrier(2)
        won: list[str] = []
        lost: list[TicketChanged] = []
        outcomes = (won, lost)

        def take(
            name: str,
            ticket_id: str = ticket_id,
            barrier: threading.Barrier = barrier,
            outcomes: tuple[list[str], list[TicketChanged]] = outcomes,
        ) -> None:
            barrier.wait()
            try:
                service.assign(
                    ticket_id, actor=f"tok_{name}:{name}", me=name, assignee=None, take=True
                )
                outcomes[0].append(name)
            except TicketChanged as exc:
                outcomes[1].append(exc)

        threads = [threading.Thread(target=take, args=(n,)) for n in ("alice", "bob")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert len(won) == 1
        assert len(lost) == 1
        assert lost[0].current["assignee"] == won[0]
        with sessions() as session:
            state = session.get(TicketState, ticket_id)
            assert state is not None
            assert state.assignee == won[0]
            assigned = [
                e
                for e in audit.list_for_ticket(session, ticket_id)
                if e.action == "ticket_assigned"
            ]
        assert len(assigned) == 1


def test_sla_breach_is_computed_and_stored_with_a_controlled_clock(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    opened = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
    clock = Clock(opened + timedelta(minutes=10))
    service = service_for(sessions, clock)
    ticket_id = seed.ticket(priority="P1", created_at=opened).ticket_id

    fresh = service.view(ticket_id).sla
    assert fresh.first_response.due == opened + timedelta(minutes=30)
    assert not fresh.breached

    clock.now = opened + timedelta(minutes=45)
    late = service.assign(ticket_id, actor="tok_a:alice", me="alice", assignee=None, take=True)
    assert late.sla.breached
    with sessions() as session:
        state = session.scalar(select(TicketState).where(TicketState.ticket_id == ticket_id))
        assert state is not None
        assert state.sla_breached
        assert state.sla_first_response_due == opened + timedelta(minutes=30)

    # Waiting on the customer stops the clocks; the view says so.
    service.change_status(ticket_id, "await_customer", actor="tok_a:alice")
    clock.now = opened + timedelta(days=3)
    assert service.view(ticket_id).sla.paused


def test_merge_keeps_both_audit_trails_and_points_at_the_target(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    service = service_for(sessions)
    target = seed.ticket().ticket_id
    dup = seed.ticket(message="Same question again").ticket_id
    with sessions() as session:
        before = [e.id for e in audit.list_for_ticket(session, dup)]

    merged = service.merge(dup, target, actor="tok_a:alice")
    assert merged.ticket.id == target
    assert [m.text for m in merged.messages if m.kind == "customer"] == [
        "My API key stopped working",
        "Same question again",
    ]
    with sessions() as session:
        after = [e.id for e in audit.list_for_ticket(session, dup)]
        state = session.get(TicketState, dup)
        assert state is not None
        assert state.merged_into == target
    assert after[: len(before)] == before
    with pytest.raises(TicketChanged):
        service.merge(seed.ticket().ticket_id, target, actor="tok_a:alice", expected_version=99)


def test_a_follow_up_delivered_twice_at_once_is_stored_once(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    service = service_for(sessions, pipeline=CannedPipeline())
    ticket_id = seed.ticket().ticket_id
    barrier = threading.Barrier(2)
    stored: list[str] = []

    def deliver() -> None:
        barrier.wait()
        service.follow_up_now(
            ticket_id,
            "and in Python?",
            actor="slack:U0DEV",
            external_id="slack:C1:1712.0002",
            on_stored=lambda session, target: stored.append(target),
        )

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    conversation = service.view(ticket_id)
    customer = [m.text for m in conversation.messages if m.kind == "customer"]
    assert customer == ["My API key stopped working", "and in Python?"]
    drafts = sorted((d.version, d.status) for d in conversation.ticket.drafts)
    assert drafts == [(1, "superseded"), (2, "pending")]
    assert stored == [ticket_id, ticket_id]  # both deliveries acknowledged
