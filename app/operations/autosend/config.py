"""The auto-send policy file: which categories may earn auto-send, and on what evidence."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from app.yaml_config import load_yaml_model


class AutoSendPolicyError(ValueError):
    """The policy file is unreadable or invalid; the message says where."""


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(ge=0.0, le=1.0)
    min_reviews: int = Field(ge=1, le=100_000)
    target_precision: float = Field(gt=0.0, le=1.0)
    # Never 0: with auto-send on, only the held sample is still reviewed, and without
    # reviews a regression could never switch it off.
    review_sample_rate: float = Field(gt=0.0, le=1.0)


class _Override(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    min_reviews: int | None = Field(default=None, ge=1, le=100_000)
    target_precision: float | None = Field(default=None, gt=0.0, le=1.0)
    review_sample_rate: float | None = Field(default=None, gt=0.0, le=1.0)


class _PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    defaults: _Rule
    categories: dict[str, _Override | None] = Field(default_factory=dict)


class Rule(BaseModel):
    """What one category must show to be auto-sent (see autosend_policy.yaml)."""

    model_config = ConfigDict(frozen=True)

    threshold: float
    min_reviews: int
    target_precision: float
    review_sample_rate: float


@dataclass(frozen=True)
class AutoSendPolicy:
    rules: dict[str, Rule]

    def rule_for(self, category: str | None) -> Rule | None:
        """The category's rule; None when the policy does not govern it."""
        return self.rules.get(category) if category else None


def load_autosend_policy(path: Path | None = None) -> AutoSendPolicy:
    """The policy at ``path``, or the built-in one (which governs no category)."""
    parsed = load_yaml_model(
        _PolicyFile,
        path=path,
        builtin=("app.operations.autosend", "autosend_policy.yaml"),
        what="auto-send policy",
        error=AutoSendPolicyError,
    )
    base = parsed.defaults.model_dump()
    rules = {
        name: Rule(**{**base, **(override.model_dump(exclude_none=True) if override else {})})
        for name, override in parsed.categories.items()
    }
    return AutoSendPolicy(rules)
