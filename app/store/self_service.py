"""Self-service answers shown on /help (or returned by /v1/ask), and the asker's verdict.

A question the widget answers itself creates no ticket, so without this table nothing
would remember it: the row keeps the (redacted) question, what was shown, and the
asker's "did this help?" answer, which the knowledge-gap report reads (app/operations/gaps).
Schema owned by migration ``0009_autosend_policy``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import CheckConstraint, Float, Index, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.columns import UTCDateTime, json_type, utcnow
from app.store.errors import NotFoundError
from app.store.ids import new_id
from app.store.models import ID_LEN, Base, one_of

Feedback = Literal["helpful", "not_helpful"]
FEEDBACKS: tuple[Feedback, ...] = get_args(Feedback)


class SelfServiceAnswer(Base):
    __tablename__ = "self_service_answers"
    __table_args__ = (
        CheckConstraint("feedback IS NULL OR " + one_of("feedback", FEEDBACKS), name="feedback"),
        Index("ix_self_service_answers_feedback", "feedback", "feedback_at"),
        Index("ix_self_service_answers_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, default=lambda: new_id("ssa"))
    # As the pipeline stored it: secrets replaced by placeholders.
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(json_type())
    confidence: Mapped[float] = mapped_column(Float)
    category: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    feedback: Mapped[Feedback | None] = mapped_column(String(16))
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The asker's keyed hash (app/store/askers.py; migration 0010_deflection), if known.
    asker_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def record_answer(
    session: Session,
    *,
    question: str,
    answer: str,
    citations: list[dict[str, Any]],
    confidence: float,
    category: str | None,
    language: str,
    asker_key: str | None = None,
    now: datetime | None = None,
) -> SelfServiceAnswer:
    row = SelfServiceAnswer(
        question=question,
        answer=answer,
        citations=citations,
        confidence=confidence,
        category=category,
        language=language,
        asker_key=asker_key,
        created_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def give_feedback(
    session: Session, answer_id: str, feedback: Feedback, *, now: datetime | None = None
) -> SelfServiceAnswer:
    """The asker's verdict on an answer they were shown; a second one replaces the first
    (a change of mind after reading further is the verdict that counts)."""
    row = session.get(SelfServiceAnswer, answer_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"answer {answer_id} not found")
    row.feedback = feedback
    row.feedback_at = now or utcnow()
    session.flush()
    return row
