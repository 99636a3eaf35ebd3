"""Percentiles over long ranges from the timing histogram, on both databases: counts and
maxima exact, percentiles within the documented 11 % of the exact nearest rank."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from sqlalchemy import Engine

from app.operations.metrics.config import MetricsConfig
from app.operations.metrics.histogram import Counts, bounds, bucket, estimate
from app.operations.metrics.refresh import rebuild
from app.operations.metrics.stats import StatsService, Timing
from app.operations.metrics.stats_sql import GROUPS
from app.settings import BusinessHoursSetting
from tests.app.operations.metric_fixture import query

LONG = (datetime(2024, 1, 15, 6, 0, tzinfo=UTC), datetime(2024, 4, 20, 18, 0, tzinfo=UTC))
HOURS = BusinessHoursSetting(timezone="UTC", days=(0, 1, 2, 3, 4), start=time(9), end=time(17))


def test_buckets_hold_every_second_and_estimate_within_eleven_percent() -> None:
    assert [bucket(s) for s in (0, 1, 2, 7, 8, 9)] == [0, 1, 2, 7, 8, 8]
    for seconds in [*range(0, 5000), 86_400, 1_000_003, 30_000_000]:
        guess = estimate(bucket(seconds))
        assert abs(guess - seconds) <= 0.112 * seconds, seconds
    assert bounds()[0] == 1


def test_a_percentile_is_the_nearest_rank_bucket_capped_by_the_maximum() -> None:
    counts = Counts()
    for seconds in (10, 30, 92):
        counts.add(seconds)
    assert counts.count == 3
    assert counts.percentile(50) == estimate(bucket(30))
    # 92 lies in [91, 108), whose middle 99 is above the longest timing: capped.
    assert estimate(bucket(92)) == 99
    assert counts.percentile(95) == 92
    assert Counts().percentile(50) is None


def _close(bucketed: Timing, exact: Timing) -> None:
    assert (bucketed.count, bucketed.max_seconds) == (exact.count, exact.max_seconds)
    for name in ("p50_seconds", "p90_seconds", "p95_seconds"):
        got, want = getattr(bucketed, name), getattr(exact, name)
        if want is None:
            assert got is None
        else:
            assert abs(got - want) <= 0.112 * want, (name, got, want)


@pytest.mark.parametrize("group", GROUPS)
def test_long_ranges_rank_buckets_close_to_the_exact_percentiles(
    loaded: Engine, group: str
) -> None:
    config = MetricsConfig(business_hours=HOURS)
    now = datetime(2024, 6, 1, tzinfo=UTC)
    fast = StatsService(loaded, config=config).stats(*LONG, group, now=now)  # type: ignore[arg-type]
    exact = StatsService(loaded, config=config, use_rollups=False).stats(
        *LONG,
        group,  # type: ignore[arg-type]
        now=now,
    )
    assert (fast.percentiles, exact.percentiles) == ("histogram", "exact")
    assert [r.key for r in fast.groups] == [r.key for r in exact.groups]
    for mine, theirs in [(fast.totals, exact.totals), *zip(fast.groups, exact.groups, strict=True)]:
        if group in ("day", "week") and mine is not fast.totals:
            # A day or a week is ranked exactly (stored, or from the fact rows at the ends).
            assert mine.tickets == theirs.tickets
        for measure, timing in theirs.tickets.timings.items():
            _close(mine.tickets.timings[measure], timing)
        assert mine.tickets.business_timings is not None
        assert theirs.tickets.business_timings is not None
        for measure, timing in theirs.tickets.business_timings.items():
            _close(mine.tickets.business_timings[measure], timing)
        assert mine.drafts == theirs.drafts
        assert mine.agents == theirs.agents


def test_a_rebuild_gives_the_histogram_the_refresh_gave(loaded: Engine) -> None:
    StatsService(loaded).stats(*LONG, "day")
    tables = {
        "metric_timing_histogram": "dimension, week, key, measure",
        "metric_timing_percentiles": "grain, start, measure",
    }
    before = {t: query(loaded, f"SELECT * FROM {t} ORDER BY {o}") for t, o in tables.items()}
    assert all(before.values())
    rebuild(loaded)
    assert {
        t: query(loaded, f"SELECT * FROM {t} ORDER BY {o}") for t, o in tables.items()
    } == before
    # Five first drafts (T1..T6 but T6), under every dimension and in the weekly ranks.
    counted = query(
        loaded,
        "SELECT dimension, SUM(tickets) AS n FROM metric_timing_histogram "
        "WHERE measure = 'first_draft' GROUP BY dimension ORDER BY dimension",
    )
    assert {row["n"] for row in counted} == {5}
    weekly = query(
        loaded,
        "SELECT start, tickets, p50_seconds, max_seconds FROM metric_timing_percentiles "
        "WHERE grain = 'week' AND measure = 'first_draft' ORDER BY start",
    )
    # First drafts took [10, 30, 120] seconds in the first week, [20, 60] in the second.
    assert weekly == [
        {"start": "2024-03-04", "tickets": 3, "p50_seconds": 30, "max_seconds": 120},
        {"start": "2024-03-11", "tickets": 2, "p50_seconds": 20, "max_seconds": 60},
    ]
