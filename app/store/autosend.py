"""Earned auto-send: each category's policy state and every decision taken on a draft.

``autosend_states`` holds one row per category the policy governs: ``shadow`` (drafts
are only marked would-have-sent, an agent reviews every one) or ``on`` (drafts at or
above the threshold are sent, a sample still reviewed).  ``autosend_decisions`` holds
one row per pipeline draft decided under the policy; joined with the agent's review of
the same draft it is the measurement that earns (or loses) auto-send.  Schema owned by
migration ``0009_autosend_policy``; the logic lives in app/operations/autosend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.columns import UTCDateTime, json_type, utcnow
from app.store.ids import new_id
from app.store.models import ID_LEN, Base, ReviewEvent, one_of

AutoSendMode = Literal["shadow", "on"]
AUTOSEND_MODES: tuple[AutoSendMode, ...] = get_args(AutoSendMode)

# Review actions that are a verdict on the draft's text (escalating leaves it pending).
VERDICTS = ("approve", "edit", "reject")


class AutoSendState(Base):
    __tablename__ = "autosend_states"
    __table_args__ = (CheckConstraint(one_of("mode", AUTOSEND_MODES), name="mode"),)

    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    mode: Mapped[AutoSendMode] = mapped_column(String(16))
    # Reviews count as evidence from here on: set when the category is first governed
    # and again when auto-send switches itself off, so a category that regressed must
    # earn it back with N fresh reviews.
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Compare-and-set counter: two drafts deciding at once switch a category only once.
    version: Mapped[int] = mapped_column(Integer, default=0)
    # The figures behind the last switch (also in the audit log).
    figures: Mapped[dict[str, Any]] = mapped_column(json_type())


class AutoSendDecision(Base):
    __tablename__ = "autosend_decisions"
    __table_args__ = (
        CheckConstraint(one_of("mode", AUTOSEND_MODES), name="mode"),
        UniqueConstraint("draft_id"),
        Index("ix_autosend_decisions_category", "category", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, default=lambda: new_id("asd"))
    draft_id: Mapped[str] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(64))
    mode: Mapped[AutoSendMode] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    # Eligible: no hand-off and confidence at or above the threshold.
    would_send: Mapped[bool] = mapped_column(Boolean)
    # Held for an agent although auto-send is on: the sample that keeps precision measured.
    sampled: Mapped[bool] = mapped_column(Boolean)
    sent: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def state_of(session: Session, category: str, *, now: datetime) -> AutoSendState:
    """The category's state, created in shadow mode the first time it is governed."""
    state = session.get(AutoSendState, category, populate_existing=True)
    if state is not None:
        return state
    try:
        # A savepoint: another transaction may create the row at the same moment.
        with session.begin_nested():
            session.add(
                AutoSendState(
                    category=category,
                    mode="shadow",
                    window_start=now,
                    changed_at=now,
                    version=0,
                    figures={},
                )
            )
    except IntegrityError:
        pass
    found = session.get(AutoSendState, category, populate_existing=True)
    assert found is not None
    return found


def switch(
    session: Session,
    state: AutoSendState,
    mode: AutoSendMode,
    *,
    now: datetime,
    figures: dict[str, Any],
    reset_window: bool,
) -> bool:
    """Move the category to ``mode`` unless another transaction switched it first."""
    values: dict[str, Any] = {
        "mode": mode,
        "changed_at": now,
        "figures": figures,
        "version": state.version + 1,
    }
    if reset_window:
        values["window_start"] = now
    moved = session.execute(
        update(AutoSendState)
        .where(AutoSendState.category == state.category, AutoSendState.version == state.version)
        .values(**values)
        .returning(AutoSendState.category)
        .execution_options(synchronize_session=False)
    ).first()
    session.refresh(state)
    return moved is not None


def record_decision(session: Session, decision: AutoSendDecision) -> AutoSendDecision:
    session.add(decision)
    session.flush()
    return decision


@dataclass(frozen=True)
class Reviewed:
    """One human verdict on a draft the policy decided on."""

    would_send: bool
    action: str
    confidence: float
    reviewed_at: datetime


def reviewed_decisions(
    session: Session,
    category: str,
    *,
    since: datetime,
    humans_only_except: str,
    would_send: bool | None = True,
    limit: int | None = None,
) -> list[Reviewed]:
    """Verdicts given since ``since`` on drafts decided in ``category``, newest first.

    ``humans_only_except``: the auto-send actor, whose approvals are not a verdict.
    """
    stmt = (
        select(
            AutoSendDecision.would_send,
            ReviewEvent.action,
            AutoSendDecision.confidence,
            ReviewEvent.created_at,
        )
        .join(ReviewEvent, ReviewEvent.draft_id == AutoSendDecision.draft_id)
        .where(
            AutoSendDecision.category == category,
            AutoSendDecision.sent.is_(False),
            ReviewEvent.action.in_(VERDICTS),
            ReviewEvent.reviewer != humans_only_except,
            ReviewEvent.created_at >= since,
        )
        .order_by(ReviewEvent.created_at.desc(), ReviewEvent.id.desc())
    )
    if would_send is not None:
        stmt = stmt.where(AutoSendDecision.would_send.is_(would_send))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [Reviewed(bool(w), str(a), float(c), t) for w, a, c, t in session.execute(stmt)]


def all_states(session: Session) -> Sequence[AutoSendState]:
    return list(session.scalars(select(AutoSendState).order_by(AutoSendState.category)))


def decision_for(session: Session, draft_id: str) -> AutoSendDecision | None:
    return session.scalar(select(AutoSendDecision).where(AutoSendDecision.draft_id == draft_id))
