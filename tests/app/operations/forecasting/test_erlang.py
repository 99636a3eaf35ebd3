"""Erlang C against hand-computed and textbook values."""

from __future__ import annotations

import math

import pytest

from app.operations.forecasting.erlang import (
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    required_agents,
    service_level,
)


def test_erlang_c_matches_the_formula_computed_by_hand() -> None:
    # A = 2 Erlangs, N = 3: C = (A^N/N! · N/(N−A)) / (Σ_{k<N} A^k/k! + A^N/N! · N/(N−A))
    #   = (8/6 · 3) / (1 + 2 + 2 + 4) = 4/9.
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9)
    # Erlang B for the same: (A^N/N!) / Σ_{k≤N} A^k/k! = (4/3) / (1 + 2 + 2 + 4/3) = 4/19.
    assert erlang_b(3, 2.0) == pytest.approx(4 / 19)


def test_the_textbook_call_centre_example() -> None:
    """100 contacts per 30 minutes, 3 minutes each (10 Erlangs), 80 % answered in 20 s:
    the probability of waiting with 11 agents is the published 68.21 %, 13 agents reach
    79.6 % and 14 agents 88.8 % (ASA 7.8 s)."""
    assert erlang_c(11, 10.0) == pytest.approx(0.6821, abs=1e-4)
    assert service_level(13, 10.0, 180, 20) == pytest.approx(0.7956, abs=1e-4)
    assert service_level(14, 10.0, 180, 20) == pytest.approx(0.8884, abs=1e-4)
    assert average_speed_of_answer(14, 10.0, 180) == pytest.approx(7.8, abs=0.05)
    staffing = required_agents(100, handle=3, target=20 / 60, service_goal=0.8, interval=30)
    assert staffing.agents == 14
    assert staffing.load == pytest.approx(10.0)
    assert staffing.occupancy == pytest.approx(10 / 14)


def test_shrinkage_and_the_occupancy_cap_add_agents() -> None:
    base = required_agents(100, handle=3, target=20 / 60, service_goal=0.8, interval=30)
    shrunk = required_agents(
        100, handle=3, target=20 / 60, service_goal=0.8, interval=30, shrinkage=0.3
    )
    assert shrunk.agents == base.agents
    assert shrunk.scheduled == math.ceil(14 / 0.7)
    capped = required_agents(
        100, handle=3, target=20 / 60, service_goal=0.8, interval=30, max_occupancy=0.6
    )
    assert capped.agents == math.ceil(10 / 0.6)
    assert capped.occupancy <= 0.6


def test_an_unstable_or_empty_queue() -> None:
    assert erlang_c(10, 10.0) == 1.0
    assert service_level(9, 10.0, 3, 1) == 0.0
    assert math.isinf(average_speed_of_answer(10, 10.0, 3))
    idle = required_agents(0, handle=3, target=1, service_goal=0.8)
    assert (idle.agents, idle.scheduled, idle.service_level) == (0, 0, 1.0)
    with pytest.raises(ValueError, match="shrinkage"):
        required_agents(10, handle=3, target=1, service_goal=0.8, shrinkage=1.0)
