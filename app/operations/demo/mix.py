"""Which message each arrival brings, on which channel, from which developer.

An ordinary arrival picks a source group by its ``share``, then a row of the group,
each row weighted by its category's trend factor on that day (1 → 1 + trend, linearly
over the history).  An incident arrival picks among the rows of the incident
categories.  Reporters are a fixed pool of fake developers (example.com), a few of whom
write often (Zipf weights).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from app.operations.demo.arrivals import Arrival
from app.operations.demo.config import DemoConfig
from app.operations.demo.sources import DemoMessage


@dataclass(frozen=True)
class PlannedTicket:
    index: int
    arrival: Arrival
    message: DemoMessage
    channel: str
    reporter: str
    # Asked on the help page (/v1/ask) by this browser id (help_page.py), else None.
    asker: str | None = None
    # A help-page asker back after an answer: their verdict on it (or "silent").
    came_back_after: str | None = None


def _pick(rng: np.random.Generator, weights: Sequence[float]) -> int:
    p = np.asarray(weights, dtype=float)
    return int(rng.choice(len(p), p=p / p.sum()))


def _trend_weights(
    messages: Sequence[DemoMessage], trends: dict[str, float], progress: float
) -> list[float]:
    return [1.0 + trends.get(m.category or "", 0.0) * progress for m in messages]


def plan_tickets(
    arrivals: Sequence[Arrival],
    groups: dict[str, list[DemoMessage]],
    config: DemoConfig,
    start: date,
    days: int,
    rng: np.random.Generator,
) -> list[PlannedTicket]:
    """One ticket per arrival, in arrival order."""
    names = [s.name for s in config.sources if groups.get(s.name)]
    if not names:
        raise ValueError("no messages to replay: every source group is empty")
    shares = [next(s.share for s in config.sources if s.name == n) for n in names]
    every = [m for n in names for m in groups[n]]
    incident_pool = [m for m in every if m.category in config.arrivals.incidents.categories]
    incident_pool = incident_pool or every
    channels = sorted(config.channel_mix)
    channel_p = [config.channel_mix[c] for c in channels]
    reporter_w = [1.0 / (k**config.reporter_zipf) for k in range(1, config.reporters + 1)]
    planned = []
    for index, arrival in enumerate(arrivals):
        if arrival.incident is not None:
            message = incident_pool[int(rng.integers(len(incident_pool)))]
            channel = config.arrivals.incidents.channel
        else:
            pool = groups[names[_pick(rng, shares)]]
            progress = (arrival.at.date() - start).days / max(days - 1, 1)
            message = pool[_pick(rng, _trend_weights(pool, config.category_trends, progress))]
            channel = message.channel or channels[_pick(rng, channel_p)]
        reporter = f"dev{_pick(rng, reporter_w) + 1:03d}@example.com"
        planned.append(PlannedTicket(index, arrival, message, channel, reporter))
    return planned
