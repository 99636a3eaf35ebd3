"""Erlang C: agents needed for a queue of tickets to meet a service level.

Implemented from the formula rather than taken from pyworkforce: its releases with
Erlang C for this Python (3.11) are 0.5.0/0.5.1, which pull Google OR-Tools (a 30 MB
wheel) and downgrade protobuf below what chromadb's OpenTelemetry needs; 0.5.2–0.5.4
require Python ≥ 3.12.  The formulas are short and textbook:

* offered load A = λ · AHT (Erlangs), λ arrivals per unit time;
* Erlang B by the stable recursion B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1));
* Erlang C, the probability that an arrival waits: C(N, A) = N·B / (N − A·(1 − B));
* service level P(wait ≤ T) = 1 − C · exp(−(N − A) · T / AHT);
* average speed of answer ASA = C · AHT / (N − A).

``required_agents`` searches the smallest N with the service level met and occupancy
A/N at most the cap, then adds shrinkage (breaks, meetings, training): N / (1 − s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_b(agents: int, load: float) -> float:
    if agents < 0 or load < 0:
        raise ValueError("agents and load must be non-negative")
    b = 1.0
    for n in range(1, agents + 1):
        b = load * b / (n + load * b)
    return b


def erlang_c(agents: int, load: float) -> float:
    """Probability that an arrival waits; 1.0 when the queue is unstable (N ≤ A)."""
    if load <= 0:
        return 0.0
    if agents <= load:
        return 1.0
    b = erlang_b(agents, load)
    return agents * b / (agents - load * (1.0 - b))


def service_level(agents: int, load: float, handle: float, target: float) -> float:
    """P(wait ≤ target); ``handle`` and ``target`` in the same unit."""
    if load <= 0:
        return 1.0
    if agents <= load:
        return 0.0
    return 1.0 - erlang_c(agents, load) * math.exp(-(agents - load) * target / handle)


def average_speed_of_answer(agents: int, load: float, handle: float) -> float:
    if load <= 0:
        return 0.0
    if agents <= load:
        return math.inf
    return erlang_c(agents, load) * handle / (agents - load)


@dataclass(frozen=True)
class Staffing:
    arrivals: float  # per interval
    load: float  # Erlangs
    agents: int  # productive agents on the queue
    scheduled: int  # with shrinkage: agents to put on the rota
    service_level: float
    occupancy: float
    asa: float  # same unit as handle time


def required_agents(
    arrivals: float,
    *,
    handle: float,
    target: float,
    service_goal: float,
    interval: float = 60.0,
    max_occupancy: float = 1.0,
    shrinkage: float = 0.0,
) -> Staffing:
    """Agents for ``arrivals`` per ``interval`` (same unit as ``handle`` and ``target``,
    e.g. minutes) so that a share ``service_goal`` waits at most ``target``."""
    if not 0 <= shrinkage < 1:
        raise ValueError("shrinkage must be in [0, 1)")
    if not 0 < max_occupancy <= 1 or not 0 <= service_goal <= 1:
        raise ValueError("max_occupancy must be in (0, 1] and service_goal in [0, 1]")
    if handle <= 0 or interval <= 0:
        raise ValueError("handle time and interval must be positive")
    load = arrivals / interval * handle
    if load <= 0:
        return Staffing(arrivals, 0.0, 0, 0, 1.0, 0.0, 0.0)
    agents = max(1, math.floor(load) + 1)
    while (
        service_level(agents, load, handle, target) < service_goal or load / agents > max_occupancy
    ):
        agents += 1
    return Staffing(
        arrivals=arrivals,
        load=load,
        agents=agents,
        scheduled=math.ceil(agents / (1.0 - shrinkage) - 1e-9),
        service_level=service_level(agents, load, handle, target),
        occupancy=load / agents,
        asa=average_speed_of_answer(agents, load, handle),
    )
