"""The demo history's parameters (history.yaml), validated.

Every number of the simulation lives in the YAML file so that docs/demo-history.md and
the code read the same values; this module only checks their shapes.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.store.models import REJECT_REASONS
from app.yaml_config import load_yaml_model

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DRAFT_CLASSES = ("grounded", "ungrounded", "off_docs")
OUTCOMES = ("approve", "edit", "rewrite", "reject")
HANDOFF_OUTCOMES = ("reply", "escalate")


class DemoConfigError(ValueError):
    """The demo history file is missing or malformed; the message says where."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _probabilities(value: dict[str, float]) -> dict[str, float]:
    total = sum(value.values())
    if any(p < 0 for p in value.values()) or abs(total - 1.0) > 1e-6:
        raise ValueError(f"probabilities must be non-negative and sum to 1, not {total:.4f}")
    return value


class Incidents(_Strict):
    per_week: float = Field(ge=0)
    duration_hours: tuple[float, float]
    extra_per_hour: tuple[float, float]
    start_hours: tuple[int, int]
    categories: list[str] = Field(min_length=1)
    channel: str


class Arrivals(_Strict):
    base_per_day: float = Field(gt=0)
    weekly_growth: float = Field(gt=-1)
    weekday_factors: dict[str, float]
    hour_weights: dict[Literal["weekday", "weekend"], list[float]]
    day_noise_cv: float = Field(ge=0, lt=1)
    incidents: Incidents

    @field_validator("weekday_factors")
    @classmethod
    def _all_days(cls, value: dict[str, float]) -> dict[str, float]:
        if sorted(value) != sorted(WEEKDAYS) or any(v < 0 for v in value.values()):
            raise ValueError(f"give a non-negative factor for each of {', '.join(WEEKDAYS)}")
        return value

    @field_validator("hour_weights")
    @classmethod
    def _hours(cls, value: dict[str, list[float]]) -> dict[str, list[float]]:
        for name, weights in value.items():
            if len(weights) != 24 or any(w < 0 for w in weights) or sum(weights) <= 0:
                raise ValueError(f"{name}: 24 non-negative weights, not all zero")
        if set(value) != {"weekday", "weekend"}:
            raise ValueError("give both weekday and weekend hour weights")
        return value


class Source(_Strict):
    name: str
    share: float = Field(ge=0)
    corpus: str | None = None
    files: list[str] = Field(min_length=1)
    only: dict[str, str] = Field(default_factory=dict)

    @field_validator("files")
    @classmethod
    def _prefixed(cls, value: list[str]) -> list[str]:
        bad = [f for f in value if not f.startswith(("repo:", "eval:"))]
        if bad:
            raise ValueError(f"files must start with repo: or eval:, not {bad}")
        return value


class Shift(_Strict):
    name: str
    days: list[str] = Field(min_length=1)
    start: time
    end: time

    @model_validator(mode="after")
    def _valid(self) -> Shift:
        if any(d not in WEEKDAYS for d in self.days):
            raise ValueError(f"{self.name}: days must be among {', '.join(WEEKDAYS)}")
        if self.start >= self.end:
            raise ValueError(f"{self.name}: a shift starts before it ends")
        return self


class OnCall(_Strict):
    name: str
    priorities: list[str] = Field(min_length=1)
    page_minutes: tuple[float, float]


class Team(_Strict):
    agents: list[Shift] = Field(min_length=1)
    on_call: OnCall | None = None
    pickup_minutes: float = Field(gt=0)


class HandleMinutes(_Strict):
    approve: float = Field(gt=0)
    edit: float = Field(gt=0)
    rewrite: float = Field(gt=0)
    reply: float = Field(gt=0)
    follow_up: float = Field(gt=0)
    sigma: float = Field(ge=0)
    wrap_up: float = Field(ge=0)


class Texts(_Strict):
    reopen: dict[str, list[str]]
    customer_answer: dict[str, list[str]]
    reply: dict[str, list[str]]
    follow_up_reply: dict[str, list[str]]
    edit_prefix: dict[str, list[str]]
    edit_suffix: dict[str, list[str]]
    escalation_reason: dict[str, list[str]]

    @model_validator(mode="after")
    def _english(self) -> Texts:
        for name, by_language in self.model_dump().items():
            if not by_language.get("en"):
                raise ValueError(f"texts.{name} needs English (en) texts, the fallback")
        return self

    def pick(self, name: str, language: str) -> list[str]:
        by_language: dict[str, list[str]] = getattr(self, name)
        return by_language.get(language) or by_language["en"]


class ComesBack(_Strict):
    """How often an answered asker opens a ticket from /help afterwards, by their verdict."""

    helpful: float = Field(ge=0, le=1)
    not_helpful: float = Field(ge=0, le=1)
    silent: float = Field(ge=0, le=1)


class SelfService(_Strict):
    """The help page (/v1/ask): which arrivals are asked there and what the askers do."""

    widget_share: float = Field(ge=0, le=1)
    answer_min_confidence: float = Field(ge=0, le=1)
    feedback: float = Field(ge=0, le=1)
    helpful: dict[str, float]
    feedback_minutes: float = Field(gt=0)
    comes_back: ComesBack
    comes_back_hours: float = Field(gt=0)
    comes_back_sigma: float = Field(ge=0)

    @field_validator("helpful")
    @classmethod
    def _classes(cls, value: dict[str, float]) -> dict[str, float]:
        if sorted(value) != sorted(DRAFT_CLASSES) or any(not 0 <= p <= 1 for p in value.values()):
            raise ValueError(f"give a probability for each of {', '.join(DRAFT_CLASSES)}")
        return value


class DemoConfig(_Strict):
    arrivals: Arrivals
    sources: list[Source] = Field(min_length=1)
    category_trends: dict[str, float] = Field(default_factory=dict)
    channel_mix: dict[str, float]
    reporters: int = Field(ge=1)
    reporter_zipf: float = Field(ge=0)
    team: Team
    handle_minutes: HandleMinutes
    outcomes: dict[str, dict[str, float]]
    handoff: dict[str, float] = Field(alias="outcomes_handoff", default_factory=dict)
    reject_reasons: dict[str, dict[str, float]]
    fix_category: float = Field(ge=0, le=1)
    fix_priority: float = Field(ge=0, le=1)
    await_customer: float = Field(ge=0, le=1)
    customer_answers: float = Field(ge=0, le=1)
    reply_hours: float = Field(gt=0)
    close_after_hours: float = Field(gt=0)
    reopen: float = Field(ge=0, le=1)
    reopen_hours: float = Field(gt=0)
    approve_follow_up_draft: float = Field(ge=0, le=1)
    # Optional so that a --config written before the help page still loads (no traffic).
    self_service: SelfService | None = None
    texts: Texts

    @model_validator(mode="before")
    @classmethod
    def _split_handoff(cls, data: object) -> object:
        # The YAML keeps all four draft classes under `outcomes`; the hand-off one has its
        # own outcome names, so it is validated as its own field.
        if isinstance(data, dict) and isinstance(data.get("outcomes"), dict):
            outcomes = dict(data["outcomes"])
            data = {**data, "outcomes": outcomes, "outcomes_handoff": outcomes.pop("handoff", {})}
        return data

    @model_validator(mode="after")
    def _sums(self) -> DemoConfig:
        tables = {
            "handoff": (self.handoff, HANDOFF_OUTCOMES),
            "channel_mix": (self.channel_mix, tuple(self.channel_mix)),
        }
        for kind in DRAFT_CLASSES:
            if kind not in self.outcomes or kind not in self.reject_reasons:
                raise ValueError(f"outcomes and reject_reasons need {', '.join(DRAFT_CLASSES)}")
            tables[f"outcomes.{kind}"] = (self.outcomes[kind], OUTCOMES)
            tables[f"reject_reasons.{kind}"] = (self.reject_reasons[kind], REJECT_REASONS)
        for name, (table, allowed) in tables.items():
            unknown = sorted(set(table) - set(allowed))
            if unknown:
                raise ValueError(f"{name}: unknown {unknown}; use {', '.join(allowed)}")
            try:
                _probabilities(table)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from exc
        if sum(s.share for s in self.sources) <= 0:
            raise ValueError("at least one source needs a positive share")
        return self


def load_demo_config(path: Path | None = None) -> DemoConfig:
    """The file at ``path``, or the built-in history.yaml."""
    return load_yaml_model(
        DemoConfig,
        path=path,
        builtin=("app.operations.demo", "history.yaml"),
        what="demo history configuration",
        error=DemoConfigError,
    )
