"""SLA clocks with a controlled clock: due times, breaches, pauses, business hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.conversations.policy import SlaPolicyError, load_sla_policy
from app.conversations.sla import (
    BusinessHours,
    SlaEvent,
    Targets,
    add_working_time,
    compute,
    working_time_between,
)

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = BusinessHours(frozenset(range(5)), time(9), time(17), PARIS)
ROUND_THE_CLOCK = Targets(
    first_response=timedelta(minutes=30),
    next_response=timedelta(hours=1),
    resolution=timedelta(hours=8),
)
OFFICE = Targets(
    first_response=timedelta(hours=4),
    next_response=timedelta(hours=4),
    resolution=timedelta(hours=16),
    hours=WEEKDAYS,
)


def at(day: int, hour: int, minute: int = 0, tz: ZoneInfo | None = None) -> datetime:
    """A moment in the week of Monday 2026-03-02 (day 0), UTC unless ``tz``."""
    return datetime(2026, 3, 2 + day, hour, minute, tzinfo=tz or UTC)


def test_first_response_due_and_breach_round_the_clock() -> None:
    opened = at(0, 10)
    fresh = compute(ROUND_THE_CLOCK, opened, [], now=at(0, 10, 20))
    assert fresh.first_response.due == at(0, 10, 30)
    assert not fresh.breached
    assert fresh.next_due == at(0, 10, 30)

    late = compute(ROUND_THE_CLOCK, opened, [], now=at(0, 10, 31))
    assert late.first_response.breached
    assert late.breached

    replied = [SlaEvent(at(0, 10, 25), "agent_reply")]
    met = compute(ROUND_THE_CLOCK, opened, replied, now=at(0, 12))
    assert met.first_response.met_at == at(0, 10, 25)
    assert met.first_response.due is None
    assert not met.breached
    assert met.next_response is None


def test_a_follow_up_starts_the_next_response_clock_and_a_late_reply_stays_breached() -> None:
    opened = at(0, 10)
    events = [SlaEvent(at(0, 10, 5), "agent_reply"), SlaEvent(at(0, 11), "customer")]
    waiting = compute(ROUND_THE_CLOCK, opened, events, now=at(0, 11, 30))
    assert waiting.next_response is not None
    assert waiting.next_response.due == at(0, 12)
    assert not waiting.breached

    answered_late = [*events, SlaEvent(at(0, 12, 30), "agent_reply")]
    state = compute(ROUND_THE_CLOCK, opened, answered_late, now=at(0, 13))
    assert state.breached  # the breach is part of the record once it happened


def test_business_hours_carry_a_friday_evening_ticket_over_the_weekend() -> None:
    # Friday 16:00 in Paris: one working hour left that day, then Monday from 09:00.
    opened = at(4, 16, tz=PARIS)
    state = compute(OFFICE, opened, [], now=at(4, 16, 30, tz=PARIS))
    assert state.first_response.due == at(7, 12, tz=PARIS)  # Monday 12:00
    # All weekend long nothing counts: Sunday night the clock is not breached.
    assert not compute(OFFICE, opened, [], now=at(6, 23, tz=PARIS)).breached
    assert compute(OFFICE, opened, [], now=at(7, 12, 1, tz=PARIS)).first_response.breached


def test_working_time_counts_only_the_windows() -> None:
    friday_noon, monday_noon = at(4, 12, tz=PARIS), at(7, 12, tz=PARIS)
    assert working_time_between(friday_noon, monday_noon, WEEKDAYS) == timedelta(hours=8)
    assert working_time_between(monday_noon, friday_noon, WEEKDAYS) == timedelta(0)
    # Saturday 10:00 + 1 h of working time is Monday 10:00.
    assert add_working_time(at(5, 10, tz=PARIS), timedelta(hours=1), WEEKDAYS) == at(
        7, 10, tz=PARIS
    )


def test_awaiting_the_customer_pauses_every_clock() -> None:
    opened = at(0, 10)
    events = [
        SlaEvent(at(0, 10, 10), "agent_reply"),
        SlaEvent(at(0, 11), "paused"),
    ]
    paused = compute(ROUND_THE_CLOCK, opened, events, now=at(0, 20))
    assert paused.paused
    assert paused.resolution.due is None  # stopped, not counting down
    assert not paused.breached  # 1 h ran before the pause; the 8 h target is far

    # The customer answers after 9 h: the resolution clock resumes with 7 h left.
    resumed = [*events, SlaEvent(at(0, 20), "customer")]
    state = compute(ROUND_THE_CLOCK, opened, resumed, now=at(0, 20, 5))
    assert not state.paused
    assert state.resolution.due == at(1, 3)
    assert state.next_response is not None
    assert state.next_response.due == at(0, 21)


def test_solved_stops_the_clocks_and_a_reopen_restarts_resolution() -> None:
    opened = at(0, 10)
    solved = [SlaEvent(at(0, 10, 10), "agent_reply"), SlaEvent(at(0, 11), "solved")]
    state = compute(ROUND_THE_CLOCK, opened, solved, now=at(2, 0))
    assert state.resolution.met_at == at(0, 11)
    assert not state.breached
    assert state.next_due is None

    reopened = [*solved, SlaEvent(at(0, 12), "reopened")]
    state = compute(ROUND_THE_CLOCK, opened, reopened, now=at(0, 19))
    assert state.resolution.breached  # 9 h since opening, target 8 h


def test_the_policy_file_loads_and_bad_files_say_why(tmp_path: Path) -> None:
    policy = load_sla_policy()
    assert policy.for_priority("P1").hours is None
    assert policy.for_priority("P3").hours is not None
    assert policy.for_priority("P9") == policy.for_priority(policy.default_priority)

    bad = tmp_path / "sla.yaml"
    bad.write_text(
        "timezone: Mars/Olympus\ndefault_priority: P1\npriorities:\n"
        "  P1: {first_response_minutes: 1, next_response_minutes: 1, resolution_minutes: 1}\n"
    )
    with pytest.raises(SlaPolicyError, match="time zone"):
        load_sla_policy(bad)
    bad.write_text(
        "default_priority: P1\npriorities:\n  P1: {first_response_minutes: 1, "
        "next_response_minutes: 1, resolution_minutes: 1, business_hours: true}\n"
    )
    with pytest.raises(SlaPolicyError, match="business hours"):
        load_sla_policy(bad)
