from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.store import audit, reviews, tickets
from app.store.errors import ConflictError, InvalidInputError, InvalidStateError, NotFoundError
from app.store.models import OutboxMessage, ReviewEvent
from tests.app.conftest import Seeded, Seeder


def _pending(seed: Seeder, *, draft_text: str = "Rotate it.", team: str = "platform") -> Seeded:
    seeded = seed.ticket(draft_text=draft_text, team=team)
    assert seeded.draft_id is not None
    return seeded


def _count(session: Session, model: type[OutboxMessage] | type[ReviewEvent]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_approve_as_written_queues_exactly_one_reply(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    seeded = _pending(seed, draft_text="Use the v2 endpoint.")
    assert seeded.draft_id is not None
    with sessions.begin() as s:
        draft = reviews.approve(s, seeded.draft_id, reviewer="alice")
        assert draft.status == "approved"

    with sessions() as s:
        ticket = tickets.get_ticket(s, seeded.ticket_id)
        [draft] = ticket.drafts
        assert ticket.status == "approved"
        assert (draft.status, draft.final_text, draft.approved_by) == (
            "approved",
            "Use the v2 endpoint.",
            "alice",
        )
        assert draft.approved_at is not None
        [message] = s.scalars(select(OutboxMessage)).all()
        assert (message.draft_id, message.ticket_id, message.status) == (
            draft.id,
            ticket.id,
            "pending",
        )
        assert message.payload["text"] == "Use the v2 endpoint."
        [event] = reviews.list_events(s, ticket.id)
        assert (event.action, event.reviewer, event.edit_distance) == ("approve", "alice", 0)
        last = audit.list_for_ticket(s, ticket.id)[-1]
        assert (last.action, last.actor, last.from_status, last.to_status) == (
            "draft_approved",
            "alice",
            "pending_review",
            "approved",
        )
        assert last.detail["outbox_id"] == message.id


def test_edited_approval_records_the_edit_distance(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    seeded = _pending(seed, draft_text="kitten")
    assert seeded.draft_id is not None
    with sessions.begin() as s:
        draft = reviews.approve(
            s, seeded.draft_id, reviewer="bob", text="sitting", expected_version=1
        )
        assert draft.final_text == "sitting"
    with sessions() as s:
        [event] = reviews.list_events(s, seeded.ticket_id)
        assert (event.action, event.edit_distance) == ("edit", 3)
        [message] = s.scalars(select(OutboxMessage)).all()
        assert message.payload["text"] == "sitting"


def test_second_approval_of_the_same_draft_conflicts(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    seeded = _pending(seed)
    assert seeded.draft_id is not None
    with sessions.begin() as s:
        reviews.approve(s, seeded.draft_id, reviewer="alice")
    with sessions.begin() as s, pytest.raises(ConflictError, match="is already approved"):
        reviews.approve(s, seeded.draft_id, reviewer="bob", text="mine instead")
    with sessions() as s:
        assert _count(s, OutboxMessage) == 1
        assert _count(s, ReviewEvent) == 1


def test_edit_against_a_stale_version_conflicts(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    seeded = _pending(seed, draft_text="v1")
    assert seeded.draft_id is not None
    with sessions.begin() as s:
        newer = tickets.add_draft(
            s, seeded.ticket_id, text="v2", confidence=0.5, needs_human=False
        ).id

    # The agent was editing version 1, which a re-draft has since superseded.
    with sessions.begin() as s, pytest.raises(ConflictError, match=f"the current draft is {newer}"):
        reviews.approve(s, seeded.draft_id, reviewer="alice", text="v1 edited")
    # Addressing the right draft with the wrong version is stale too.
    with sessions.begin() as s, pytest.raises(ConflictError, match="not the expected version 1"):
        reviews.approve(s, newer, reviewer="alice", text="v2 edited", expected_version=1)

    with sessions() as s:
        assert _count(s, OutboxMessage) == 0
        assert tickets.get_ticket(s, seeded.ticket_id).status == "pending_review"
    with sessions.begin() as s:
        reviews.approve(s, newer, reviewer="alice", text="v2 edited", expected_version=2)


def test_approve_unknown_draft_or_blank_text_is_rejected(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    seeded = _pending(seed)
    assert seeded.draft_id is not None
    with sessions.begin() as s, pytest.raises(NotFoundError, match="draft drf_missing not found"):
        reviews.approve(s, "drf_missing", reviewer="alice")
    with sessions.begin() as s, pytest.raises(InvalidInputError, match="blank"):
        reviews.approve(s, seeded.draft_id, reviewer="alice", text="  \n")


def test_reject_records_the_reason_and_blocks_approval(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    seeded = _pending(seed)
    assert seeded.draft_id is not None
    with sessions.begin() as s:
        draft = reviews.reject(
            s, seeded.draft_id, reviewer="carol", reason_code="inaccurate", reason="wrong URL"
        )
        assert draft.status == "rejected"
    with sessions() as s:
        assert tickets.get_ticket(s, seeded.ticket_id).status == "rejected"
        [event] = reviews.list_events(s, seeded.ticket_id)
        assert (event.action, event.reason_code, event.reason) == (
            "reject",
            "inaccurate",
            "wrong URL",
        )
        assert audit.list_for_ticket(s, seeded.ticket_id)[-1].to_status == "rejected"
    with sessions.begin() as s, pytest.raises(ConflictError, match="is already rejected"):
        reviews.approve(s, seeded.draft_id, reviewer="alice")

    # A fresh draft brings the ticket back to the queue.
    with sessions.begin() as s:
        tickets.add_draft(s, seeded.ticket_id, text="fixed", confidence=0.7, needs_human=False)
    with sessions() as s:
        assert tickets.get_ticket(s, seeded.ticket_id).status == "pending_review"


def test_reject_with_unknown_reason_code(session: Session, seed: Seeder) -> None:
    seeded = _pending(seed)
    assert seeded.draft_id is not None
    with pytest.raises(InvalidInputError, match="unknown reason code 'meh'"):
        reviews.reject(session, seeded.draft_id, reviewer="c", reason_code="meh")  # type: ignore[arg-type]


def test_escalate_then_reassign_keeps_the_draft_reviewable(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    seeded = _pending(seed, team="platform")
    assert seeded.draft_id is not None
    with sessions.begin() as s:
        ticket = reviews.escalate(
            s, seeded.ticket_id, reviewer="dave", reason="outage?", team="sre"
        )
        assert (ticket.status, ticket.team) == ("escalated", "sre")
    with sessions.begin() as s:
        reviews.escalate(s, seeded.ticket_id, reviewer="erin", reason="billing", team="billing")

    with sessions() as s:
        events = reviews.list_events(s, seeded.ticket_id)
        assert [(e.action, e.reviewer, e.draft_id) for e in events] == [
            ("escalate", "dave", seeded.draft_id),
            ("reassign", "erin", seeded.draft_id),
        ]
        trail = audit.list_for_ticket(s, seeded.ticket_id)[-2:]
        assert [(a.action, a.detail["from_team"], a.detail["to_team"]) for a in trail] == [
            ("ticket_escalated", "platform", "sre"),
            ("ticket_reassigned", "sre", "billing"),
        ]
        ticket = tickets.get_ticket(s, seeded.ticket_id)
        assert (ticket.status, ticket.team) == ("escalated", "billing")

    with sessions.begin() as s:
        reviews.approve(s, seeded.draft_id, reviewer="erin")
    with sessions() as s:
        assert audit.list_for_ticket(s, seeded.ticket_id)[-1].from_status == "escalated"
    with sessions.begin() as s, pytest.raises(InvalidStateError, match="is approved"):
        reviews.escalate(s, seeded.ticket_id, reviewer="dave", reason="too late")


def test_escalate_unknown_ticket(session: Session) -> None:
    with pytest.raises(NotFoundError, match="ticket tkt_none not found"):
        reviews.escalate(session, "tkt_none", reviewer="x", reason="y")
