"""Where each governed category stands: its mode, the live figures, and how the shadow
decisions compared with what agents actually did (read-only; nothing switches here)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.operations.autosend.config import Rule
from app.operations.autosend.gate import AUTO_SEND_ACTOR, AutoSendGate, Figures, measure
from app.store import autosend as store

StatusMode = Literal["shadow", "on", "off"]


class Comparison(BaseModel):
    """Agent verdicts in the window, split by what the policy would have done."""

    would_send: dict[str, int]
    held: dict[str, int]


class CategoryStatus(BaseModel):
    category: str
    # off: a category that has a state but the policy no longer lists.
    mode: StatusMode
    rule: Rule | None
    figures: Figures | None
    changed_at: datetime | None
    comparison: Comparison


class AutoSendStatus(BaseModel):
    # TRIAGE_AUTO_SEND_MIN_CONFIDENCE: the floor (and the unlisted categories' threshold).
    legacy_min_confidence: float | None
    categories: list[CategoryStatus]


_OUTCOMES = {"approve": "approved_unedited", "edit": "edited", "reject": "rejected"}


def _comparison(session: Session, category: str, since: datetime) -> Comparison:
    reviewed = store.reviewed_decisions(
        session, category, since=since, humans_only_except=AUTO_SEND_ACTOR, would_send=None
    )
    counts = Counter((r.would_send, _OUTCOMES[r.action]) for r in reviewed)
    split = {
        side: {outcome: counts[(side, outcome)] for outcome in _OUTCOMES.values()}
        for side in (True, False)
    }
    return Comparison(would_send=split[True], held=split[False])


def policy_status(session: Session, gate: AutoSendGate, *, now: datetime) -> AutoSendStatus:
    states = {s.category: s for s in store.all_states(session)}
    names = sorted(set(gate.policy.rules) | set(states))
    categories = []
    for name in names:
        rule = gate.policy.rule_for(name)
        state = states.get(name)
        window_start = state.window_start if state is not None else now
        figures = (
            measure(session, name, rule, gate.threshold(rule), window_start)
            if rule is not None
            else None
        )
        mode: StatusMode = "off" if rule is None else (state.mode if state else "shadow")
        categories.append(
            CategoryStatus(
                category=name,
                mode=mode,
                rule=rule,
                figures=figures,
                changed_at=state.changed_at if state is not None else None,
                comparison=_comparison(session, name, window_start),
            )
        )
    return AutoSendStatus(legacy_min_confidence=gate.legacy_min_confidence, categories=categories)
