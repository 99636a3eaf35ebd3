"""The statistics behind GET /v1/stats on both databases, against the hand-computed
fixture (metric_fixture.py).  Percentiles are nearest-rank: rank ceil(p·n/100)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from app.operations.metrics.stats import Row, StatsService, Timing

MARCH = (datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC))


def _timings(row: Row) -> dict[str, tuple[Any, ...]]:
    return {m: tuple(asdict(t).values()) for m, t in row.tickets.timings.items()}


def test_grouped_by_week(loaded: Engine) -> None:
    stats = StatsService(loaded).stats(*MARCH, "week")
    first, second = stats.groups
    assert (first.key, second.key) == ("2024-03-04", "2024-03-11")

    assert (first.tickets.opened, first.tickets.self_service_handoffs, first.tickets.reopened) == (
        3,
        1,
        1,
    )
    assert asdict(first.tickets.sla) == {
        "tracked": 3,
        "breached": 2,
        "first_response_breached": 1,
        "next_response_breached": 0,
        "resolution_breached": 1,
    }
    assert first.tickets.sla.attainment == 1 / 3
    # (count, p50, p90, p95, max); first drafts took [10, 30, 120] seconds.
    assert _timings(first) == {
        "first_draft": (3, 30, 120, 120, 120),
        "first_response": (3, 2400, 3600, 3600, 3600),
        "approval": (2, 600, 3600, 3600, 3600),
        "resolution": (2, 3600, 10800, 10800, 10800),
    }
    assert _timings(second) == {
        "first_draft": (2, 20, 60, 60, 60),
        "first_response": (1, 300, 300, 300, 300),
        "approval": (1, 300, 300, 300, 300),
        "resolution": tuple(asdict(Timing()).values()),
    }
    assert (second.tickets.sla.tracked, second.tickets.sla.breached) == (2, 1)

    drafts = first.drafts
    assert (drafts.total, drafts.approved_unedited, drafts.edited, drafts.rejected) == (4, 1, 1, 1)
    assert (drafts.pending, drafts.rewritten_by_hand, drafts.reviewed) == (1, 1, 3)
    assert (drafts.acceptance_rate, drafts.unedited_rate, drafts.edit_distance_mean) == (
        2 / 3,
        1 / 3,
        7.0,
    )
    assert (drafts.with_usage, drafts.prompt_tokens, drafts.completion_tokens) == (1, 100, 50)
    later = second.drafts
    assert (later.total, later.superseded, later.auto_sent, later.pending) == (3, 1, 1, 1)
    assert later.acceptance_rate is None

    assert first.agents is not None
    assert second.agents is not None
    assert asdict(first.agents) == {
        "actions": 9,
        "tickets": 3,
        "approvals": 2,
        "edits": 1,
        "rejections": 1,
        "escalations": 0,
        "replies": 1,
        "notes": 1,
        "solves": 3,
        "timed_actions": 3,
        "handle_seconds_total": 2100,
    }
    assert first.agents.handle_seconds_mean == 700
    assert second.agents.actions == 0


def test_totals_are_over_the_whole_range(loaded: Engine) -> None:
    totals = StatsService(loaded).stats(*MARCH, "category").totals
    assert totals.tickets.opened == 6
    assert (totals.tickets.sla.tracked, totals.tickets.sla.breached) == (5, 3)
    assert totals.tickets.sla.attainment == 0.4
    # Percentiles of all six tickets, not combined from the groups'.
    assert _timings(totals) == {
        "first_draft": (5, 30, 120, 120, 120),
        "first_response": (4, 600, 3600, 3600, 3600),
        "approval": (3, 600, 3600, 3600, 3600),
        "resolution": (2, 3600, 10800, 10800, 10800),
    }
    assert (totals.drafts.total, totals.drafts.reviewed) == (7, 3)
    assert totals.agents is not None
    assert (totals.agents.actions, totals.agents.tickets, totals.agents.solves) == (9, 3, 3)


def test_grouped_by_category_has_no_agent_rows(loaded: Engine) -> None:
    groups = StatsService(loaded).stats(*MARCH, "category").groups
    assert [(g.key, g.tickets.opened, g.drafts.total) for g in groups] == [
        ("auth", 3, 5),
        ("payouts", 2, 2),
        (None, 1, 0),
    ]
    assert all(g.agents is None for g in groups)


def test_grouped_by_agent(loaded: Engine) -> None:
    groups = StatsService(loaded).stats(*MARCH, "agent").groups
    assert [(g.key, g.tickets.opened, g.drafts.total) for g in groups] == [
        ("alice", 1, 2),
        ("bob", 2, 1),
        (None, 3, 4),
    ]
    alice, bob, nobody = groups
    assert alice.agents is not None
    assert bob.agents is not None
    assert nobody.agents is not None
    assert (alice.agents.actions, alice.agents.tickets, alice.agents.solves) == (6, 2, 2)
    assert (alice.agents.timed_actions, alice.agents.handle_seconds_total) == (3, 2100)
    assert (bob.agents.actions, bob.agents.edits, bob.agents.notes) == (3, 1, 1)
    assert nobody.agents.actions == 0


def test_handle_times_count_gaps_before_the_range_start(loaded: Engine) -> None:
    day = (datetime(2024, 3, 6, tzinfo=UTC), datetime(2024, 3, 7, tzinfo=UTC))
    groups = {g.key: g for g in StatsService(loaded).stats(*day, "agent").groups}
    alice, bob = groups["alice"].agents, groups["bob"].agents
    assert alice is not None
    assert bob is not None
    # alice: reject (46 h after her previous action: idle), reply after 600 s, solve
    # after 1200 s.
    assert (alice.actions, alice.timed_actions, alice.handle_seconds_total) == (3, 2, 1800)
    # bob: note (first), solve 40 minutes later: idle, untimed.
    assert (bob.actions, bob.timed_actions) == (2, 0)
    assert groups[None].tickets.opened == 1  # tkt_03, unassigned


def test_an_empty_range(loaded: Engine) -> None:
    stats = StatsService(loaded).stats(
        datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, tzinfo=UTC), "day"
    )
    assert stats.groups == []
    assert stats.totals.tickets.opened == 0
    assert stats.totals.tickets.sla.attainment is None
    assert stats.totals.tickets.timings["first_response"].p50_seconds is None
