"""Reliability of draft confidence from the agents' verdicts, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.operations.autosend.calibration import reliability_by_category
from app.operations.autosend.gate import AUTO_SEND_ACTOR
from app.store import reviews, tickets

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _drafted(
    session: Session,
    category: str,
    confidence: float,
    *,
    needs_human: bool = False,
    drafter: str = "offline",
) -> str:
    ticket = tickets.create_ticket(
        session,
        channel="api",
        reporter=None,
        message="How do webhooks retry?",
        triage={"category": category, "priority": "P3"},
        now=T0,
    )
    draft = tickets.add_draft(
        session,
        ticket.id,
        text="Webhooks retry with backoff.",
        confidence=confidence,
        needs_human=needs_human,
        provenance={"drafter": drafter},
        now=T0,
    )
    return draft.id


def test_bins_hold_the_share_approved_unedited_per_category(
    sessions: sessionmaker[Session],
) -> None:
    later = T0 + timedelta(hours=1)
    with sessions.begin() as s:
        for confidence, verdict in [
            (0.92, "approve"),
            (0.95, "approve"),
            (0.91, "edit"),
            (0.97, "approve"),
            (0.35, "reject"),
            (0.31, "approve"),
        ]:
            draft_id = _drafted(s, "webhooks", confidence)
            if verdict == "reject":
                reviews.reject(s, draft_id, reviewer="ana", reason_code="inaccurate", now=later)
            else:
                text = "Edited." if verdict == "edit" else None
                reviews.approve(s, draft_id, reviewer="ana", text=text, now=later)
        reviews.approve(s, _drafted(s, "cards", 0.8), reviewer="ana", now=later)
        # None of these is a verdict on a draft auto-send could send:
        reviews.approve(s, _drafted(s, "cards", 0.99), reviewer=AUTO_SEND_ACTOR, now=later)
        reviews.approve(s, _drafted(s, "cards", 1.0, drafter="agent"), reviewer="ana", now=later)
        reviews.approve(s, _drafted(s, "cards", 0.0, needs_human=True), reviewer="ana", now=later)

    with sessions() as s:
        tables = {t.category: t for t in reliability_by_category(s)}
        assert reliability_by_category(s, since=later + timedelta(seconds=1))[0].n == 0

    assert list(tables) == ["all", "cards", "webhooks"]
    assert (tables["all"].n, tables["all"].approved_unedited) == (7, 5)
    assert (tables["cards"].n, tables["cards"].approved_unedited) == (1, 1)
    webhooks = {(b["low"], b["high"]): b for b in tables["webhooks"].bins}
    top = webhooks[(0.9, 1.0)]
    assert top["n"] == 4
    assert top["observed"] == 0.75
    assert top["confidence"] == round((0.92 + 0.95 + 0.91 + 0.97) / 4, 4)
    assert webhooks[(0.3, 0.4)]["observed"] == 0.5
    assert tables["webhooks"].ece is not None
    assert tables["webhooks"].brier is not None
