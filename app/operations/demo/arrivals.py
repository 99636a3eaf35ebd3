"""When tickets arrive in the demo history: a documented non-homogeneous Poisson process.

For day ``d`` (0 = the first day) and UTC hour ``h`` the expected number of ordinary
arrivals is

    λ(d, h) = base · (1 + g)^(d/7) · weekday[dow(d)] · share[h | weekend?] · ε_d

where ``share`` is the hour weights normalised per day and ``ε_d`` a gamma variable of
mean 1 (day-to-day variation beyond Poisson noise).  Each hour's count is Poisson(λ) and
its arrivals are spread uniformly inside the hour.  Incident bursts add a constant extra
rate for a few hours.  docs/demo-history.md explains the choices; ``expected_per_hour``
is the formula without noise, which the tests compare the output with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from app.operations.demo.config import WEEKDAYS, Arrivals


@dataclass(frozen=True)
class Incident:
    index: int
    start: datetime
    end: datetime
    per_hour: float


@dataclass(frozen=True)
class Arrival:
    at: datetime
    incident: int | None = None  # the burst it belongs to


def _is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def hour_shares(config: Arrivals, day: date) -> list[float]:
    weights = config.hour_weights["weekend" if _is_weekend(day) else "weekday"]
    total = sum(weights)
    return [w / total for w in weights]


def expected_per_day(config: Arrivals, day_index: int, day: date) -> float:
    """The day's expected ordinary arrivals, without the day's random factor."""
    trend = float((1.0 + config.weekly_growth) ** (day_index / 7.0))
    return config.base_per_day * trend * config.weekday_factors[WEEKDAYS[day.weekday()]]


def expected_per_hour(config: Arrivals, day_index: int, day: date, hour: int) -> float:
    return expected_per_day(config, day_index, day) * hour_shares(config, day)[hour]


def _incident_count(config: Arrivals, days: int) -> int:
    if config.incidents.per_week <= 0 or days < 7:
        return 0
    # Deterministic, so a history of a given length always shows its bursts.
    return max(1 if days >= 14 else 0, round(config.incidents.per_week * days / 7))


def plan_incidents(
    config: Arrivals, start: date, days: int, rng: np.random.Generator
) -> list[Incident]:
    """Burst windows on distinct weekdays, spread over the history."""
    spec = config.incidents
    count = _incident_count(config, days)
    weekdays = [i for i in range(days) if not _is_weekend(start + timedelta(days=i))]
    if count == 0 or not weekdays:
        return []
    # One burst per equal slice of the history, so they do not bunch up.
    slices = np.array_split(np.array(weekdays), count)
    incidents = []
    for index, chunk in enumerate(s for s in slices if len(s)):
        day = start + timedelta(days=int(rng.choice(chunk)))
        hour = float(rng.uniform(spec.start_hours[0], spec.start_hours[1]))
        begins = datetime.combine(day, time(0), tzinfo=UTC) + timedelta(hours=hour)
        duration = float(rng.uniform(*spec.duration_hours))
        incidents.append(
            Incident(
                index=index,
                start=begins,
                end=begins + timedelta(hours=duration),
                per_hour=float(rng.uniform(*spec.extra_per_hour)),
            )
        )
    return incidents


def _day_factor(config: Arrivals, rng: np.random.Generator) -> float:
    cv = config.day_noise_cv
    if cv <= 0:
        return 1.0
    shape = 1.0 / cv**2
    return float(rng.gamma(shape, 1.0 / shape))


def ordinary_arrivals(
    config: Arrivals, start: date, days: int, rng: np.random.Generator
) -> list[Arrival]:
    out: list[Arrival] = []
    for index in range(days):
        day = start + timedelta(days=index)
        midnight = datetime.combine(day, time(0), tzinfo=UTC)
        factor = _day_factor(config, rng)
        for hour, share in enumerate(hour_shares(config, day)):
            rate = expected_per_day(config, index, day) * share * factor
            for _ in range(int(rng.poisson(rate))):
                seconds = float(rng.uniform(0.0, 3600.0))
                out.append(Arrival(midnight + timedelta(hours=hour, seconds=seconds)))
    return out


def burst_arrivals(incidents: list[Incident], rng: np.random.Generator) -> list[Arrival]:
    out: list[Arrival] = []
    for incident in incidents:
        hours = (incident.end - incident.start).total_seconds() / 3600.0
        count = int(rng.poisson(incident.per_hour * hours))
        for _ in range(count):
            offset = float(rng.uniform(0.0, hours * 3600.0))
            out.append(Arrival(incident.start + timedelta(seconds=offset), incident.index))
    return out


def arrivals(
    config: Arrivals, start: date, days: int, rng: np.random.Generator
) -> tuple[list[Arrival], list[Incident]]:
    """Every arrival of the history, in time order, and the incident windows."""
    incidents = plan_incidents(config, start, days, rng)
    merged = ordinary_arrivals(config, start, days, rng) + burst_arrivals(incidents, rng)
    merged.sort(key=lambda a: a.at)
    return merged, incidents
