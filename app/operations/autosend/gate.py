"""The auto-send decision on each new pipeline draft, and the policy's own switches.

Before every decision the category's evidence is measured again (``measure``): the last
``min_reviews`` agent verdicts, since the category's window start, on drafts the policy
would have sent.  Precision is the share approved unedited.  A shadow category whose
window is full and precise enough switches on; an ``on`` category whose precision fell
below the target switches back to shadow and its window restarts, so it needs that many
fresh verdicts to earn auto-send again.  Measuring before deciding means a regression
found by a review switches auto-send off before the next draft could be sent.

Every decision under the policy is stored (``autosend_decisions``) and audited on the
ticket, every switch audited with ``ticket_id`` null, each with the figures behind it.

``TRIAGE_AUTO_SEND_MIN_CONFIDENCE`` (the legacy global threshold) is a floor under
every governed category's threshold, and keeps its old meaning (send at or above it,
unmeasured) for categories the policy does not list.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from app.operations.autosend.config import AutoSendPolicy, Rule, load_autosend_policy
from app.settings import Settings
from app.store import audit
from app.store import autosend as store
from app.store.columns import utcnow
from app.store.models import Draft, Ticket

AUTO_SEND_ACTOR = "system:auto-send"
POLICY_ACTOR = "system:auto-send-policy"


class Figures(BaseModel):
    """The evidence behind a category's mode at one moment."""

    model_config = ConfigDict(frozen=True)

    reviewed: int
    approved_unedited: int
    precision: float | None
    min_reviews: int
    target_precision: float
    threshold: float
    window_start: datetime

    @property
    def earned(self) -> bool:
        return (
            self.reviewed >= self.min_reviews
            and self.precision is not None
            and self.precision >= self.target_precision
        )

    @property
    def regressed(self) -> bool:
        return self.precision is not None and self.precision < self.target_precision

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def measure(
    session: Session, category: str, rule: Rule, threshold: float, window_start: datetime
) -> Figures:
    verdicts = store.reviewed_decisions(
        session,
        category,
        since=window_start,
        humans_only_except=AUTO_SEND_ACTOR,
        would_send=True,
        limit=rule.min_reviews,
    )
    approved = sum(1 for v in verdicts if v.action == "approve")
    return Figures(
        reviewed=len(verdicts),
        approved_unedited=approved,
        precision=round(approved / len(verdicts), 4) if verdicts else None,
        min_reviews=rule.min_reviews,
        target_precision=rule.target_precision,
        threshold=threshold,
        window_start=window_start,
    )


def in_review_sample(draft_id: str, rate: float) -> bool:
    """A fixed share of drafts, chosen by id: the same draft is always in or out."""
    digest = hashlib.sha256(draft_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


class AutoSendGate:
    """Decides, inside the draft's transaction, whether a new draft is sent at once."""

    def __init__(
        self,
        policy: AutoSendPolicy,
        legacy_min_confidence: float | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        sampler: Callable[[str, float], bool] = in_review_sample,
    ) -> None:
        self.policy = policy
        self.legacy_min_confidence = legacy_min_confidence
        self.clock = clock
        self.sampler = sampler

    @classmethod
    def off(cls) -> AutoSendGate:
        """Nothing is ever sent without an agent."""
        return cls(AutoSendPolicy({}))

    def threshold(self, rule: Rule) -> float:
        return max(rule.threshold, self.legacy_min_confidence or 0.0)

    def decide(self, session: Session, draft: Draft, *, now: datetime | None = None) -> bool:
        """True: approve the draft as the auto-send actor now.  Audited either way when
        the category is governed; a legacy send is audited too."""
        now = now or self.clock()
        ticket = session.get(Ticket, draft.ticket_id)
        category = ticket.category if ticket is not None else None
        rule = self.policy.rule_for(category)
        if rule is None or category is None:
            return self._legacy(session, draft, now)
        state = store.state_of(session, category, now=now)
        threshold = self.threshold(rule)
        figures = measure(session, category, rule, threshold, state.window_start)
        figures = self._reconsider(session, state, rule, figures, now)
        would_send = not draft.needs_human and draft.confidence >= threshold
        on = state.mode == "on"
        sampled = would_send and on and self.sampler(draft.id, rule.review_sample_rate)
        sent = would_send and on and not sampled
        store.record_decision(
            session,
            store.AutoSendDecision(
                draft_id=draft.id,
                ticket_id=draft.ticket_id,
                category=category,
                mode=state.mode,
                confidence=draft.confidence,
                threshold=threshold,
                would_send=would_send,
                sampled=sampled,
                sent=sent,
                created_at=now,
            ),
        )
        audit.record(
            session,
            ticket_id=draft.ticket_id,
            actor=AUTO_SEND_ACTOR,
            action="autosend_decided",
            detail={
                "draft_id": draft.id,
                "category": category,
                "mode": state.mode,
                "confidence": draft.confidence,
                "needs_human": draft.needs_human,
                "would_send": would_send,
                "sampled_for_review": sampled,
                "sent": sent,
                **figures.as_dict(),
            },
            now=now,
        )
        return sent

    def _reconsider(
        self,
        session: Session,
        state: store.AutoSendState,
        rule: Rule,
        figures: Figures,
        now: datetime,
    ) -> Figures:
        """Switch the category when its evidence says so; the figures it now stands on."""
        if state.mode == "shadow" and figures.earned:
            self._switch(session, state, "on", figures, now, reset_window=False)
            return figures
        regressed = state.mode == "on" and figures.regressed
        if regressed and self._switch(session, state, "shadow", figures, now, reset_window=True):
            # The window restarts now: the evidence left is what earns it back.
            return measure(session, state.category, rule, figures.threshold, now)
        return figures

    def _switch(
        self,
        session: Session,
        state: store.AutoSendState,
        mode: store.AutoSendMode,
        figures: Figures,
        now: datetime,
        *,
        reset_window: bool,
    ) -> bool:
        detail = {"category": state.category, "from": state.mode, "to": mode, **figures.as_dict()}
        if not store.switch(
            session, state, mode, now=now, figures=detail, reset_window=reset_window
        ):
            return False  # another draft's transaction switched it; state is reloaded
        audit.record(
            session,
            ticket_id=None,
            actor=POLICY_ACTOR,
            action="autosend_enabled" if mode == "on" else "autosend_disabled",
            detail=detail,
            now=now,
        )
        return True

    def _legacy(self, session: Session, draft: Draft, now: datetime) -> bool:
        threshold = self.legacy_min_confidence
        if threshold is None or draft.needs_human or draft.confidence < threshold:
            return False
        audit.record(
            session,
            ticket_id=draft.ticket_id,
            actor=AUTO_SEND_ACTOR,
            action="autosend_decided",
            detail={
                "draft_id": draft.id,
                "policy": "legacy",
                "confidence": draft.confidence,
                "threshold": threshold,
                "sent": True,
            },
            now=now,
        )
        return True


def build_auto_send(settings: Settings) -> AutoSendGate:
    """The gate from settings: the policy file (or the built-in one) and the legacy floor."""
    return AutoSendGate(
        load_autosend_policy(settings.auto_send_policy_path), settings.auto_send_min_confidence
    )
