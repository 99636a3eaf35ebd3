"""The questions the knowledge-gap report is made of, read from the store.

Three signals that the documentation did not answer a question (app/operations/gaps/gaps.yaml):

* ``handoff``: a draft handed to a person because the docs did not cover the question
  (the drafters' ``insufficient_documentation`` and alike);
* ``didnt_help``: a self-service answer the asker said did not help;
* ``rejected``: a draft an agent rejected as inaccurate or incomplete.

The question of a draft is the customer message it answered: the latest one at or
before the draft (a follow-up's draft answers the follow-up).  Every text is stored
redacted, so none here holds a secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Literal, NamedTuple

import yaml
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.store.conversations import TicketMessage
from app.store.models import Draft, ReviewEvent, Ticket
from app.store.self_service import SelfServiceAnswer

Source = Literal["handoff", "didnt_help", "rejected"]
SOURCES: tuple[Source, ...] = ("handoff", "didnt_help", "rejected")


@dataclass(frozen=True)
class GapSignals:
    undocumented_reasons: tuple[str, ...]
    reject_reasons: tuple[str, ...]
    filler_words: tuple[str, ...]


@cache
def gap_signals() -> GapSignals:
    """The word lists of gaps.yaml (read once; they ship with the code)."""
    text = resources.files("app.operations.gaps").joinpath("gaps.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return GapSignals(
        tuple(data["undocumented_reasons"]),
        tuple(data["reject_reasons"]),
        tuple(data["filler_words"]),
    )


@dataclass(frozen=True)
class GapQuestion:
    source: Source
    text: str
    at: datetime
    ticket_id: str | None = None
    answer_id: str | None = None
    category: str | None = None


def reason_codes(reason: str | None) -> set[str]:
    """``"unsupported_answer; model_requested_handoff: no doc"`` → both codes."""
    if not reason:
        return set()
    return {part.split(":", 1)[0].strip() for part in reason.split(";") if part.strip()}


class _Drafted(NamedTuple):
    """A gap signal about one draft."""

    source: Source
    ticket_id: str
    at: datetime
    drafted_at: datetime
    message: str
    category: str | None


def _asked(session: Session, drafts: Sequence[_Drafted]) -> list[str]:
    """Per draft, the customer message it answered (the ticket's own when none is stored)."""
    ticket_ids = sorted({d.ticket_id for d in drafts})
    messages: dict[str, list[tuple[datetime, str]]] = {}
    for start in range(0, len(ticket_ids), 500):
        rows = session.execute(
            select(TicketMessage.ticket_id, TicketMessage.created_at, TicketMessage.text)
            .where(
                TicketMessage.ticket_id.in_(ticket_ids[start : start + 500]),
                TicketMessage.kind == "customer",
            )
            .order_by(TicketMessage.created_at, TicketMessage.seq)
        )
        for ticket_id, created_at, text in rows:
            messages.setdefault(ticket_id, []).append((created_at, text))
    asked: list[str] = []
    for draft in drafts:
        earlier = [t for at, t in messages.get(draft.ticket_id, []) if at <= draft.drafted_at]
        asked.append(earlier[-1] if earlier else draft.message)
    return asked


def _handoffs(
    session: Session, start: datetime, end: datetime, signals: GapSignals
) -> list[_Drafted]:
    stmt = (
        select(Draft.ticket_id, Draft.created_at, Draft.reason, Ticket.message, Ticket.category)
        .join(Ticket, Ticket.id == Draft.ticket_id)
        .where(
            Draft.needs_human.is_(True),
            Draft.created_at >= start,
            Draft.created_at < end,
            or_(*(Draft.reason.like(f"%{code}%") for code in signals.undocumented_reasons)),
        )
    )
    wanted = set(signals.undocumented_reasons)
    return [
        _Drafted("handoff", ticket_id, at, at, message, category)
        for ticket_id, at, reason, message, category in session.execute(stmt)
        if reason_codes(reason) & wanted
    ]


def _rejections(
    session: Session, start: datetime, end: datetime, signals: GapSignals
) -> list[_Drafted]:
    stmt = (
        select(
            ReviewEvent.ticket_id,
            ReviewEvent.created_at,
            Draft.created_at,
            Ticket.message,
            Ticket.category,
        )
        .join(Draft, Draft.id == ReviewEvent.draft_id)
        .join(Ticket, Ticket.id == ReviewEvent.ticket_id)
        .where(
            ReviewEvent.action == "reject",
            ReviewEvent.reason_code.in_(signals.reject_reasons),
            ReviewEvent.created_at >= start,
            ReviewEvent.created_at < end,
        )
    )
    return [
        _Drafted("rejected", ticket_id, at, drafted_at, message, category)
        for ticket_id, at, drafted_at, message, category in session.execute(stmt)
    ]


def collect(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    signals: GapSignals | None = None,
    limit: int | None = None,
) -> list[GapQuestion]:
    """Every gap signal in [start, end), newest first; one per ticket, source and question."""
    signals = signals or gap_signals()
    drafted = _handoffs(session, start, end, signals) + _rejections(session, start, end, signals)
    found: dict[tuple[str, str, str], GapQuestion] = {}
    for draft, text in zip(drafted, _asked(session, drafted), strict=True):
        key = (draft.source, draft.ticket_id, text)
        if key not in found or found[key].at < draft.at:
            found[key] = GapQuestion(
                draft.source, text, draft.at, ticket_id=draft.ticket_id, category=draft.category
            )
    questions = list(found.values())
    unhelpful = session.execute(
        select(
            SelfServiceAnswer.id,
            SelfServiceAnswer.question,
            SelfServiceAnswer.feedback_at,
            SelfServiceAnswer.category,
        ).where(
            SelfServiceAnswer.feedback == "not_helpful",
            SelfServiceAnswer.feedback_at >= start,
            SelfServiceAnswer.feedback_at < end,
        )
    )
    for answer_id, question, at, category in unhelpful:
        if at is None:  # excluded by the query; the column itself may be null
            continue
        questions.append(
            GapQuestion("didnt_help", question, at, answer_id=answer_id, category=category)
        )
    questions.sort(key=lambda q: q.at, reverse=True)
    return questions[:limit] if limit is not None else questions
