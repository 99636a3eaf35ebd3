"""Agents needed per hour of the coming week, from forecast volume, measured handle time
and the SLA target (Erlang C, erlang.py), plus shrinkage.

Each forecast day's volume is spread over its hours with the weekday's measured
hour-of-day profile; each hour is then an Erlang C queue of that many arrivals.  One
first-come queue serves every priority, so it must meet the strictest first-response
target (P1 tickets in practice jump the queue, which this leaves as headroom).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from app.conversations.policy import SlaPolicy
from app.operations.forecasting.erlang import Staffing, required_agents
from app.yaml_config import load_yaml_model


class StaffingPolicyError(ValueError):
    """The staffing file is missing or malformed; the message says where."""


class StaffingPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    service_goal: float = Field(gt=0, le=1)
    answer_within_minutes: float | None = Field(default=None, gt=0)
    shrinkage: float = Field(ge=0, lt=1)
    max_occupancy: float = Field(gt=0, le=1)
    handle_time_weeks: int = Field(ge=1)
    default_handle_minutes: float = Field(gt=0)

    def target_minutes(self, sla: SlaPolicy) -> float:
        if self.answer_within_minutes is not None:
            return self.answer_within_minutes
        return min(t.first_response.total_seconds() / 60 for t in sla.targets.values())


def load_staffing_policy(path: Path | None = None) -> StaffingPolicy:
    return load_yaml_model(
        StaffingPolicy,
        path=path,
        builtin=("app.operations.forecasting", "staffing.yaml"),
        what="staffing policy",
        error=StaffingPolicyError,
    )


@dataclass(frozen=True)
class HandleTime:
    minutes: float
    measured: int  # replies measured; 0: the configured default was used

    @classmethod
    def from_samples(cls, samples: Sequence[float], default: float) -> HandleTime:
        # The mean, not the median: Erlang C's load is arrivals × mean handle time.
        if not samples:
            return cls(default, 0)
        return cls(statistics.fmean(samples), len(samples))


@dataclass(frozen=True)
class StaffingPlan:
    start: date
    hours: list[list[Staffing]]  # [day][hour]
    handle: HandleTime
    target_minutes: float
    policy: StaffingPolicy

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(len(self.hours))]

    def agent_hours(self, day: int) -> int:
        return sum(h.scheduled for h in self.hours[day])

    def peak(self, day: int) -> int:
        return max((h.scheduled for h in self.hours[day]), default=0)


def plan_week(
    daily_volume: Sequence[float],
    *,
    start: date,
    profile: Sequence[Sequence[float]],
    handle: HandleTime,
    target_minutes: float,
    policy: StaffingPolicy,
) -> StaffingPlan:
    """Agents per hour for the days from ``start`` (``profile[weekday][hour]`` shares)."""
    hours = []
    for offset, volume in enumerate(daily_volume):
        weekday = (start + timedelta(days=offset)).weekday()
        hours.append(
            [
                required_agents(
                    volume * share,
                    handle=handle.minutes,
                    target=target_minutes,
                    service_goal=policy.service_goal,
                    interval=60.0,
                    max_occupancy=policy.max_occupancy,
                    shrinkage=policy.shrinkage,
                )
                for share in profile[weekday]
            ]
        )
    return StaffingPlan(start, hours, handle, target_minutes, policy)
