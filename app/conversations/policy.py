"""The SLA policy file: targets per priority, optional business hours and time zone."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.conversations.sla import BusinessHours, Targets
from app.yaml_config import load_yaml_model, where

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class SlaPolicyError(ValueError):
    """The policy file is missing or malformed; the message says where."""


class _Hours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: list[str] = Field(min_length=1)
    start: time
    end: time

    @field_validator("days")
    @classmethod
    def _weekdays(cls, value: list[str]) -> list[str]:
        unknown = [d for d in value if d.lower() not in _WEEKDAYS]
        if unknown:
            raise ValueError(f"unknown weekdays {unknown}; use {', '.join(_WEEKDAYS)}")
        return [d.lower() for d in value]


class _Priority(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_response_minutes: int = Field(gt=0)
    next_response_minutes: int = Field(gt=0)
    resolution_minutes: int = Field(gt=0)
    business_hours: bool = False


class _Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str = "UTC"
    business_hours: _Hours | None = None
    default_priority: str
    priorities: dict[str, _Priority] = Field(min_length=1)


class SlaPolicy:
    """Targets for each priority (an unknown priority gets the default one's)."""

    def __init__(self, targets: dict[str, Targets], default_priority: str) -> None:
        if default_priority not in targets:
            raise SlaPolicyError(f"default_priority {default_priority!r} has no targets")
        self.targets = targets
        self.default_priority = default_priority

    def for_priority(self, priority: str) -> Targets:
        return self.targets.get(priority, self.targets[self.default_priority])


def _build(policy: _Policy, where: str) -> SlaPolicy:
    try:
        tz = ZoneInfo(policy.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SlaPolicyError(f"{where}: unknown time zone {policy.timezone!r}") from exc
    hours: BusinessHours | None = None
    if policy.business_hours is not None:
        spec = policy.business_hours
        try:
            days = frozenset(_WEEKDAYS.index(d) for d in spec.days)
            hours = BusinessHours(days, spec.start, spec.end, tz)
        except ValueError as exc:
            raise SlaPolicyError(f"{where}: business_hours: {exc}") from exc
    targets: dict[str, Targets] = {}
    for name, p in policy.priorities.items():
        if p.business_hours and hours is None:
            raise SlaPolicyError(f"{where}: {name} uses business hours but none are defined")
        targets[name] = Targets(
            first_response=timedelta(minutes=p.first_response_minutes),
            next_response=timedelta(minutes=p.next_response_minutes),
            resolution=timedelta(minutes=p.resolution_minutes),
            hours=hours if p.business_hours else None,
        )
    return SlaPolicy(targets, policy.default_priority)


def load_sla_policy(path: Path | None = None) -> SlaPolicy:
    """The policy at ``path``, or the built-in one."""
    policy = load_yaml_model(
        _Policy,
        path=path,
        builtin=("app.conversations", "sla_policy.yaml"),
        what="SLA policy",
        error=SlaPolicyError,
    )
    return _build(policy, where(path, "SLA policy"))
