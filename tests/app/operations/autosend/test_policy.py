"""Earned auto-send on SQLite and PostgreSQL, with a controlled clock: a category starts in
shadow mode, turns on after N good verdicts, keeps a review sample, turns itself off on a
regression and must then earn it again; every decision and switch is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.operations.autosend.config import (
    AutoSendPolicy,
    AutoSendPolicyError,
    Rule,
    load_autosend_policy,
)
from app.operations.autosend.gate import AutoSendGate
from app.operations.autosend.status import policy_status
from app.services.tickets import add_pipeline_draft
from app.store import reviews, tickets
from app.store.autosend import AutoSendDecision, AutoSendState
from app.store.models import AuditLog, Draft
from app.triage.results import DraftReply, Provenance

CATEGORY = "auth_api_access"
RULE = Rule(threshold=0.7, min_reviews=4, target_precision=0.75, review_sample_rate=0.5)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


class EverySecond:
    """The review sample, made predictable: every second eligible draft is held."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, draft_id: str, rate: float) -> bool:
        self.calls += 1
        return self.calls % 2 == 0


class Desk:
    """Drafts arriving through the real path (add_pipeline_draft) and agents' verdicts."""

    def __init__(self, sessions: sessionmaker[Session], gate: AutoSendGate, clock: Clock) -> None:
        self.sessions = sessions
        self.gate = gate
        self.clock = clock

    def draft(
        self, confidence: float = 0.9, *, category: str = CATEGORY, needs_human: bool = False
    ) -> Draft:
        now = self.clock()
        with self.sessions.begin() as session:
            ticket = tickets.create_ticket(
                session,
                channel="api",
                reporter=None,
                message="How do I authenticate?",
                triage={"category": category, "priority": "P3", "team": "platform"},
                now=now,
            )
            reply = DraftReply(
                text="Use HTTP Basic auth with the client id and secret.",
                confidence=confidence,
                needs_human=needs_human,
                reason="insufficient_documentation" if needs_human else None,
                provenance=Provenance(drafter="offline"),
            )
            draft = add_pipeline_draft(session, ticket.id, reply, auto_send=self.gate, now=now)
            session.expunge(draft)
            return draft

    def approve(self, draft: Draft, *, edited: bool = False) -> None:
        with self.sessions.begin() as session:
            text = "A rewritten reply." if edited else None
            reviews.approve(session, draft.id, reviewer="agent:ana", text=text, now=self.clock())

    def reject(self, draft: Draft) -> None:
        with self.sessions.begin() as session:
            reviews.reject(
                session, draft.id, reviewer="agent:ana", reason_code="inaccurate", now=self.clock()
            )

    def mode(self) -> str | None:
        with self.sessions() as session:
            state = session.get(AutoSendState, CATEGORY)
            return state.mode if state else None

    def policy_audit(self) -> list[AuditLog]:
        with self.sessions() as session:
            stmt = (
                select(AuditLog).where(AuditLog.ticket_id.is_(None)).order_by(AuditLog.created_at)
            )
            return list(session.scalars(stmt))

    def decision(self, draft: Draft) -> AutoSendDecision:
        with self.sessions() as session:
            found = session.scalar(
                select(AutoSendDecision).where(AutoSendDecision.draft_id == draft.id)
            )
            assert found is not None
            return found

    def ticket_audit(self, draft: Draft) -> dict[str, Any]:
        with self.sessions() as session:
            entry = session.scalar(
                select(AuditLog).where(
                    AuditLog.ticket_id == draft.ticket_id, AuditLog.action == "autosend_decided"
                )
            )
            assert entry is not None
            return entry.detail


@pytest.fixture
def desk(sessions: sessionmaker[Session]) -> Desk:
    clock = Clock()
    gate = AutoSendGate(AutoSendPolicy({CATEGORY: RULE}), clock=clock, sampler=EverySecond())
    return Desk(sessions, gate, clock)


def test_policy_earns_auto_send_then_loses_it_on_a_regression(desk: Desk) -> None:
    # Shadow: eligible drafts are only marked would-have-sent; an agent reviews each.
    shadowed = [desk.draft() for _ in range(4)]
    low = desk.draft(confidence=0.5)
    assert desk.mode() == "shadow"
    assert all(d.status == "pending" for d in [*shadowed, low])
    decided = desk.decision(shadowed[0])
    assert (decided.would_send, decided.sent) == (True, False)
    assert not desk.decision(low).would_send
    assert desk.ticket_audit(shadowed[0])["mode"] == "shadow"
    for draft in shadowed[:3]:
        desk.approve(draft)
    desk.approve(low, edited=True)  # below the threshold: not evidence either way

    # Three good verdicts of the four needed: still shadow.
    assert desk.draft().status == "pending"
    assert desk.mode() == "shadow"
    desk.approve(shadowed[3])

    # Four of four approved unedited ≥ 0.75: on.  Every second draft is held as a sample.
    sent = desk.draft()
    assert sent.status == "approved"
    assert desk.mode() == "on"
    [enabled] = desk.policy_audit()
    assert enabled.action == "autosend_enabled"
    assert enabled.detail["reviewed"] == 4
    assert enabled.detail["precision"] == 1.0
    assert enabled.detail["target_precision"] == 0.75
    decided = desk.ticket_audit(sent)
    assert (decided["sent"], decided["mode"], decided["precision"]) == (True, "on", 1.0)
    sample = desk.draft()
    assert sample.status == "pending"
    assert desk.decision(sample).sampled
    assert desk.draft(needs_human=True).status == "pending"  # a hand-off is never sent

    # The samples regress: two rejected of the last four verdicts (precision 0.5).
    desk.reject(sample)
    second_sample = [d for d in (desk.draft(), desk.draft()) if d.status == "pending"]
    assert len(second_sample) == 1
    desk.approve(second_sample[0], edited=True)

    held = desk.draft()
    assert held.status == "pending"
    assert desk.mode() == "shadow"
    disabled = desk.policy_audit()[-1]
    assert disabled.action == "autosend_disabled"
    assert disabled.detail["precision"] == 0.5
    assert disabled.detail["reviewed"] == 4
    assert desk.ticket_audit(held)["mode"] == "shadow"

    # Earned again only with four fresh verdicts, the old good ones no longer count.
    fresh = [held, *(desk.draft() for _ in range(3))]
    for draft in fresh[:3]:
        desk.approve(draft)
    assert desk.draft().status == "pending"
    desk.approve(fresh[3])
    assert desk.draft().status == "approved"
    assert [e.action for e in desk.policy_audit()] == [
        "autosend_enabled",
        "autosend_disabled",
        "autosend_enabled",
    ]


def test_status_compares_shadow_decisions_with_verdicts(desk: Desk) -> None:
    would = [desk.draft() for _ in range(3)]
    held = desk.draft(confidence=0.4)
    desk.approve(would[0])
    desk.approve(would[1], edited=True)
    desk.reject(would[2])
    desk.approve(held)
    with desk.sessions() as session:
        status = policy_status(session, desk.gate, now=desk.clock())
    [category] = status.categories
    assert category.mode == "shadow"
    assert category.comparison.would_send == {
        "approved_unedited": 1,
        "edited": 1,
        "rejected": 1,
    }
    assert category.comparison.held["approved_unedited"] == 1
    assert category.figures is not None
    assert category.figures.reviewed == 3
    assert category.figures.precision == pytest.approx(1 / 3, abs=1e-3)


def test_ungoverned_categories_keep_the_legacy_threshold_which_floors_governed_ones(
    sessions: sessionmaker[Session],
) -> None:
    clock = Clock()
    gate = AutoSendGate(AutoSendPolicy({CATEGORY: RULE}), 0.85, clock=clock)
    desk = Desk(sessions, gate, clock)
    legacy = desk.draft(0.9, category="sandbox_testing")
    assert legacy.status == "approved"
    assert desk.ticket_audit(legacy)["policy"] == "legacy"
    assert desk.draft(0.8, category="sandbox_testing").status == "pending"
    governed = desk.draft(0.8)
    assert desk.decision(governed).threshold == 0.85
    assert not desk.decision(governed).would_send


def test_without_a_policy_or_legacy_threshold_nothing_is_sent(
    sessions: sessionmaker[Session],
) -> None:
    clock = Clock()
    desk = Desk(sessions, AutoSendGate(load_autosend_policy(), clock=clock), clock)
    assert desk.draft(1.0).status == "pending"
    with sessions() as session:
        assert session.scalars(select(AutoSendDecision)).all() == []


def test_policy_file_overrides_defaults_per_category_and_rejects_a_zero_sample(
    tmp_path: Any,
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "defaults: {threshold: 0.8, min_reviews: 50, target_precision: 0.95, "
        "review_sample_rate: 0.1}\ncategories:\n  webhooks: {min_reviews: 20}\n  cards:\n"
    )
    policy = load_autosend_policy(path)
    assert policy.rule_for("webhooks") == Rule(
        threshold=0.8, min_reviews=20, target_precision=0.95, review_sample_rate=0.1
    )
    assert policy.rule_for("cards") is not None
    assert policy.rule_for("fees_limits") is None
    path.write_text(
        "defaults: {threshold: 0.8, min_reviews: 50, target_precision: 0.95, "
        "review_sample_rate: 0}\n"
    )
    with pytest.raises(AutoSendPolicyError, match="review_sample_rate"):
        load_autosend_policy(path)
