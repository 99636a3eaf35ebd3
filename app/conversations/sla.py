"""SLA clocks: pure functions of a policy, a ticket's events and an injected ``now``.

Three clocks per ticket, each a target in working time for its priority:
- first response: from the ticket's opening to the first agent reply;
- next response: from a customer follow-up (after an agent replied) to the next reply;
- resolution: from the opening to ``solved`` (a reopen starts it running again).

Working time is wall-clock time, or only the policy's business hours when it has them
(in its time zone, so a Friday-evening ticket is due on Monday).  While the ticket
awaits the customer every clock is paused: the paused stretch does not count, and an
open clock shows no due time until it runs again.  A clock is breached when the working
time it ran exceeds its target; breaches stay breached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

SlaEventKind = Literal["customer", "agent_reply", "paused", "resumed", "solved", "reopened"]
ZERO = timedelta(0)


@dataclass(frozen=True)
class BusinessHours:
    """Working hours per weekday (Monday = 0) in one time zone."""

    days: frozenset[int]
    start: time
    end: time
    tz: ZoneInfo

    def __post_init__(self) -> None:
        if not self.days or not self.days <= set(range(7)):
            raise ValueError("business hours need at least one weekday between 0 and 6")
        if self.start >= self.end:
            raise ValueError("business hours must start before they end")

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """That local day's working window in UTC, or None on a day off."""
        if day.weekday() not in self.days:
            return None
        opens = datetime.combine(day, self.start, tzinfo=self.tz).astimezone(UTC)
        closes = datetime.combine(day, self.end, tzinfo=self.tz).astimezone(UTC)
        return opens, closes


@dataclass(frozen=True)
class Targets:
    """One priority's clocks; ``hours`` None means around the clock."""

    first_response: timedelta
    next_response: timedelta
    resolution: timedelta
    hours: BusinessHours | None = None


@dataclass(frozen=True)
class SlaEvent:
    at: datetime
    kind: SlaEventKind


@dataclass(frozen=True)
class Clock:
    due: datetime | None  # None: met, or paused
    met_at: datetime | None
    breached: bool


@dataclass(frozen=True)
class SlaState:
    first_response: Clock
    next_response: Clock | None  # None: no follow-up is waiting for a reply
    resolution: Clock
    paused: bool

    @property
    def breached(self) -> bool:
        clocks = [self.first_response, self.next_response, self.resolution]
        return any(c.breached for c in clocks if c is not None)

    @property
    def next_due(self) -> datetime | None:
        """The soonest due time among the running clocks (what a queue sorts by)."""
        clocks = [self.first_response, self.next_response, self.resolution]
        dues = [c.due for c in clocks if c is not None and c.due is not None]
        return min(dues, default=None)


# -- working time ----------------------------------------------------------------------


def _local_days(start: datetime, hours: BusinessHours) -> date:
    return start.astimezone(hours.tz).date()


def add_working_time(start: datetime, duration: timedelta, hours: BusinessHours | None) -> datetime:
    """The instant ``duration`` of working time after ``start``."""
    if hours is None:
        return start + duration
    remaining = duration
    cursor = start
    day = _local_days(start, hours)
    # A week without working days is refused by BusinessHours, so this ends.
    while True:
        window = hours.window(day)
        if window is not None and cursor < window[1]:
            begin = max(cursor, window[0])
            available = window[1] - begin
            if available >= remaining:
                return begin + remaining
            remaining -= available
        day += timedelta(days=1)


def working_time_between(a: datetime, b: datetime, hours: BusinessHours | None) -> timedelta:
    """Working time in [a, b); zero when b is not after a."""
    if b <= a:
        return ZERO
    if hours is None:
        return b - a
    total = ZERO
    day, last = _local_days(a, hours), _local_days(b, hours)
    while day <= last:
        window = hours.window(day)
        if window is not None:
            overlap = min(b, window[1]) - max(a, window[0])
            total += max(overlap, ZERO)
        day += timedelta(days=1)
    return total


# -- the clocks --------------------------------------------------------------------------

Pause = tuple[datetime, datetime | None]  # [start, end); end None: still paused


def _pauses(events: Sequence[SlaEvent]) -> list[Pause]:
    pauses: list[Pause] = []
    since: datetime | None = None
    for event in events:
        if event.kind == "paused" and since is None:
            since = event.at
        elif event.kind not in {"paused", "agent_reply"} and since is not None:
            pauses.append((since, event.at))
            since = None
    if since is not None:
        pauses.append((since, None))
    return pauses


def _run(
    start: datetime, end: datetime, pauses: Sequence[Pause], hours: BusinessHours | None
) -> timedelta:
    """Working time the clock ran in [start, end), paused stretches left out."""
    ran = working_time_between(start, end, hours)
    for p_start, p_end in pauses:
        lo, hi = max(start, p_start), min(end, p_end or end)
        ran -= working_time_between(lo, hi, hours)
    return max(ran, ZERO)


def _due(
    start: datetime, target: timedelta, pauses: Sequence[Pause], hours: BusinessHours | None
) -> datetime | None:
    """When the clock started at ``start`` reaches ``target``; None while paused first."""
    remaining, cursor = target, start
    for p_start, p_end in pauses:
        if p_end is not None and p_end <= cursor:
            continue
        before = working_time_between(cursor, max(p_start, cursor), hours)
        if before >= remaining:
            break
        remaining -= before
        if p_end is None:
            return None
        cursor = max(cursor, p_end)
    return add_working_time(cursor, remaining, hours)


def _clock(
    start: datetime,
    met_at: datetime | None,
    target: timedelta,
    pauses: Sequence[Pause],
    targets: Targets,
    now: datetime,
) -> Clock:
    end = met_at or now
    breached = _run(start, end, pauses, targets.hours) > target
    due = None if met_at is not None else _due(start, target, pauses, targets.hours)
    return Clock(due=due, met_at=met_at, breached=breached)


def compute(
    targets: Targets, opened_at: datetime, events: Sequence[SlaEvent], now: datetime
) -> SlaState:
    """The clocks of a ticket opened at ``opened_at`` after ``events`` (any order), at ``now``."""
    ordered = sorted((e for e in events if e.at <= now), key=lambda e: e.at)
    pauses = _pauses(ordered)
    first_reply: datetime | None = None
    waiting_since: datetime | None = None  # a follow-up waiting for the next reply
    solved_at: datetime | None = None
    next_breached = False
    for event in ordered:
        if event.kind == "agent_reply":
            if first_reply is None:
                first_reply = event.at
            elif waiting_since is not None:
                met = _clock(waiting_since, event.at, targets.next_response, pauses, targets, now)
                next_breached = next_breached or met.breached
            waiting_since = None
        elif event.kind == "customer":
            solved_at = None
            if first_reply is not None and waiting_since is None:
                waiting_since = event.at
        elif event.kind == "solved":
            solved_at = event.at
        elif event.kind == "reopened":
            solved_at = None
    # Solved without a reply: nothing more is owed, the clock stops where it was.
    first = _clock(
        opened_at, first_reply or solved_at, targets.first_response, pauses, targets, now
    )
    if first_reply is None:
        first = Clock(
            due=first.due if solved_at is None else None, met_at=None, breached=first.breached
        )
    following: Clock | None = None
    if waiting_since is not None and solved_at is None:
        following = _clock(waiting_since, None, targets.next_response, pauses, targets, now)
    if next_breached:
        # An earlier follow-up answered late: the ticket's breach is part of its record.
        previous = following or Clock(due=None, met_at=None, breached=False)
        following = Clock(previous.due, previous.met_at, breached=True)
    resolution = _clock(opened_at, solved_at, targets.resolution, pauses, targets, now)
    paused = bool(pauses) and pauses[-1][1] is None
    return SlaState(first, following, resolution, paused)
