from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.store import audit, tickets
from app.store.errors import InvalidInputError, InvalidStateError, NotFoundError
from tests.app.conftest import Seeder

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def test_create_ticket_stores_triage_and_routing_columns(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        ticket = tickets.create_ticket(
            s,
            channel="slack",
            reporter=None,
            message="Webhook signature fails with [REDACTED_SECRET_1]",
            metadata={"plan": "pro"},
            triage={"category": "webhooks", "priority": "P1", "team": "integrations"},
            signals={"error_code": "401"},
            redactions=[{"kind": "secret", "placeholder": "[REDACTED_SECRET_1]"}],
            external_ref="C123:1700000000.000100",
        )
        ticket_id = ticket.id

    with sessions() as s:
        stored = tickets.get_ticket(s, ticket_id)
        assert stored.id.startswith("tkt_")
        assert stored.status == "drafting"
        assert (stored.category, stored.priority, stored.team) == ("webhooks", "P1", "integrations")
        assert stored.meta == {"plan": "pro"}
        assert stored.redactions == [{"kind": "secret", "placeholder": "[REDACTED_SECRET_1]"}]
        assert stored.external_ref == "C123:1700000000.000100"
        assert stored.created_at.tzinfo is not None
        assert stored.drafts == []
        [entry] = audit.list_for_ticket(s, ticket_id)
        assert (entry.action, entry.from_status, entry.to_status) == (
            "ticket_created",
            None,
            "drafting",
        )


def test_missing_priority_falls_back_to_the_default(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        ticket = tickets.create_ticket(s, channel="api", reporter=None, message="hi", triage={})
        assert ticket.priority == "P3"
        assert ticket.category is None


def test_ticket_cannot_be_created_already_decided(session: Session) -> None:
    with pytest.raises(InvalidInputError, match="cannot be created as 'approved'"):
        tickets.create_ticket(session, channel="api", reporter=None, message="x", status="approved")


def test_new_draft_supersedes_the_pending_one_and_bumps_the_version(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    seeded = seed.ticket(draft_text="first")
    with sessions.begin() as s:
        second = tickets.add_draft(
            s, seeded.ticket_id, text="second", confidence=0.9, needs_human=True, reason="unsure"
        )
        assert second.id.startswith("drf_")

    with sessions() as s:
        ticket = tickets.get_ticket(s, seeded.ticket_id)
        assert ticket.status == "pending_review"
        assert [(d.version, d.text, d.status) for d in ticket.drafts] == [
            (1, "first", "superseded"),
            (2, "second", "pending"),
        ]
        assert ticket.latest_draft is not None
        assert ticket.latest_draft.version == 2
        assert ticket.pending_draft is not None
        assert ticket.pending_draft.id == second.id
        actions = [
            (a.action, a.from_status, a.to_status)
            for a in audit.list_for_ticket(s, seeded.ticket_id)
        ]
        assert actions == [
            ("ticket_created", None, "drafting"),
            ("draft_added", "drafting", "pending_review"),
            ("draft_added", "pending_review", "pending_review"),
        ]
        assert audit.list_for_ticket(s, seeded.ticket_id)[-1].detail["superseded"] == [
            seeded.draft_id
        ]


def test_add_draft_to_unknown_or_approved_ticket_fails(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    from app.store import reviews

    with sessions() as s, pytest.raises(NotFoundError, match="ticket tkt_nope not found"):
        tickets.add_draft(s, "tkt_nope", text="x", confidence=1.0, needs_human=False)

    seeded = seed.ticket()
    assert seeded.draft_id is not None
    with sessions.begin() as s:
        reviews.approve(s, seeded.draft_id, reviewer="alice")
    with sessions() as s, pytest.raises(InvalidStateError, match="already approved"):
        tickets.add_draft(s, seeded.ticket_id, text="late", confidence=1.0, needs_human=False)


def test_get_unknown_ticket_and_draft_raise_not_found(session: Session) -> None:
    with pytest.raises(NotFoundError, match="ticket tkt_x not found"):
        tickets.get_ticket(session, "tkt_x")
    with pytest.raises(NotFoundError, match="draft drf_x not found"):
        tickets.get_draft(session, "drf_x")
