"""Reliability of draft confidence: does a draft at confidence c get approved unedited
about c of the time?  Per category, from the agents' verdicts.

A verdict is an agent's approve (unedited: the outcome counted), edit or reject of a
pipeline draft that did not hand off (the drafts auto-send could ever consider).
Auto-sent approvals and drafts an agent wrote themselves are no verdict.  Bins are the
eval report's (ten equal-width, app/triage/classify/offline/metrics.py), so the diagram
reads like the offline one.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.operations.autosend.gate import AUTO_SEND_ACTOR
from app.store.autosend import VERDICTS
from app.store.models import Draft, ReviewEvent, Ticket
from app.triage.classify.offline.metrics import reliability

ALL = "all"
# The agent's own replies are stored as drafts they approve at once (conversations).
AGENT_DRAFTER = "agent"


class Reliability(BaseModel):
    category: str
    n: int
    approved_unedited: int
    ece: float | None
    brier: float | None
    # low, high, confidence (mean), observed (approved-unedited rate), n: non-empty bins.
    bins: list[dict[str, Any]]


def _reliability(category: str, pairs: list[tuple[float, bool]]) -> Reliability:
    confidences = [c for c, _ in pairs]
    outcomes = [o for _, o in pairs]
    table = reliability(confidences, outcomes)
    brier = round(sum((c - float(o)) ** 2 for c, o in pairs) / len(pairs), 4) if pairs else None
    return Reliability(
        category=category,
        n=len(pairs),
        approved_unedited=sum(outcomes),
        ece=table["ece"],
        brier=brier,
        bins=table["bins"],
    )


def verdicts(
    session: Session, since: datetime | None = None, until: datetime | None = None
) -> list[tuple[str, float, bool]]:
    """(category, confidence, approved unedited) per agent verdict on a pipeline draft."""
    drafter = func.coalesce(Draft.provenance["drafter"].as_string(), "")
    stmt = (
        select(Ticket.category, Draft.confidence, ReviewEvent.action)
        .join(Draft, Draft.id == ReviewEvent.draft_id)
        .join(Ticket, Ticket.id == ReviewEvent.ticket_id)
        .where(
            ReviewEvent.action.in_(VERDICTS),
            ReviewEvent.reviewer != AUTO_SEND_ACTOR,
            Draft.needs_human.is_(False),
            drafter != AGENT_DRAFTER,
        )
    )
    if since is not None:
        stmt = stmt.where(ReviewEvent.created_at >= since)
    if until is not None:
        stmt = stmt.where(ReviewEvent.created_at < until)
    return [
        (category or "unknown", float(confidence), action == "approve")
        for category, confidence, action in session.execute(stmt)
    ]


def reliability_by_category(
    session: Session, since: datetime | None = None, until: datetime | None = None
) -> list[Reliability]:
    """Every category with a verdict, and ``all`` first."""
    by_category: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    everything: list[tuple[float, bool]] = []
    for category, confidence, approved in verdicts(session, since, until):
        by_category[category].append((confidence, approved))
        everything.append((confidence, approved))
    return [_reliability(ALL, everything)] + [
        _reliability(name, pairs) for name, pairs in sorted(by_category.items())
    ]
