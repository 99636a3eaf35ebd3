"""Rows of ``reusable_answers``: insert, read, retire (compare-and-set), re-cite.

The caller owns the transaction.  Retiring is a compare-and-set on ``status`` so two
re-verifications running at once retire an answer exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.store.columns import utcnow
from app.store.models import ReusableAnswer


def insert(
    session: Session,
    *,
    collection: str,
    question: str,
    answer: str,
    citations: Sequence[Mapping[str, Any]],
    language: str,
    category: str | None,
    edited: bool,
    approved_by: str | None = None,
    source_ticket_id: str | None = None,
    source_draft_id: str | None = None,
    now: datetime | None = None,
) -> ReusableAnswer:
    row = ReusableAnswer(
        collection=collection,
        question=question,
        answer=answer,
        citations=[dict(c) for c in citations],
        language=language,
        category=category,
        status="active",
        edited=edited,
        approved_by=approved_by,
        source_ticket_id=source_ticket_id,
        source_draft_id=source_draft_id,
        created_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def get(session: Session, answer_id: str) -> ReusableAnswer | None:
    return session.get(ReusableAnswer, answer_id)


def by_draft(session: Session, draft_id: str) -> ReusableAnswer | None:
    return session.scalar(select(ReusableAnswer).where(ReusableAnswer.source_draft_id == draft_id))


def active(session: Session, collection: str) -> list[ReusableAnswer]:
    stmt = (
        select(ReusableAnswer)
        .where(ReusableAnswer.collection == collection, ReusableAnswer.status == "active")
        .order_by(ReusableAnswer.created_at, ReusableAnswer.id)
    )
    return list(session.scalars(stmt))


def retired(session: Session, collection: str | None = None) -> list[ReusableAnswer]:
    stmt = select(ReusableAnswer).where(ReusableAnswer.status == "retired")
    if collection is not None:
        stmt = stmt.where(ReusableAnswer.collection == collection)
    stmt = stmt.order_by(ReusableAnswer.retired_at, ReusableAnswer.id)
    return list(session.scalars(stmt))


def retire(session: Session, answer_id: str, *, reason: str, now: datetime | None = None) -> bool:
    """Retire an active answer; False when it was already retired (or does not exist)."""
    result = session.execute(
        update(ReusableAnswer)
        .where(ReusableAnswer.id == answer_id, ReusableAnswer.status == "active")
        .values(status="retired", retired_at=now or utcnow(), retired_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def set_citations(session: Session, answer_id: str, citations: Sequence[Mapping[str, Any]]) -> None:
    """Point the citations at the doc revision they were just re-verified against."""
    session.execute(
        update(ReusableAnswer)
        .where(ReusableAnswer.id == answer_id)
        .values(citations=[dict(c) for c in citations])
        .execution_options(synchronize_session=False)
    )
