"""The daily rollups give the same statistics as the fact rows for any range (whole days
from the rollups, partial ones from the facts), and LLM drafts get a cost at the
configured prices, on both databases (hand-computed fixture, metric_fixture.py)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from app.operations.metrics.config import MetricsConfig
from app.operations.metrics.refresh import rebuild
from app.operations.metrics.stats import StatsService, split
from app.operations.metrics.stats_sql import GROUPS
from tests.app.operations.metric_fixture import query

RANGES = [
    (datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC)),  # whole days
    (datetime(2024, 3, 4, 9, 5, tzinfo=UTC), datetime(2024, 3, 12, 12, 30, tzinfo=UTC)),
    (datetime(2024, 3, 6, 8, 15, tzinfo=UTC), datetime(2024, 3, 6, 10, 10, tzinfo=UTC)),
]
PRICED = MetricsConfig(price_per_mtok_input=2.0, price_per_mtok_output=8.0)


def test_a_range_is_cut_into_whole_days_and_edges() -> None:
    start, end = RANGES[1]
    spans = split(start, end)
    assert spans.days == ("2024-03-05", "2024-03-12")
    assert spans.edges == [
        (start, datetime(2024, 3, 5, tzinfo=UTC)),
        (datetime(2024, 3, 12, tzinfo=UTC), end),
    ]
    assert split(*RANGES[2]).days is None


@pytest.mark.parametrize("group", GROUPS)
def test_rollups_answer_as_the_fact_rows_do(loaded: Engine, group: str) -> None:
    now = datetime(2024, 6, 1, tzinfo=UTC)
    for start, end in RANGES:
        fast = StatsService(loaded, config=PRICED).stats(start, end, group, now=now)  # type: ignore[arg-type]
        exact = StatsService(loaded, config=PRICED, use_rollups=False).stats(
            start,
            end,
            group,  # type: ignore[arg-type]
            now=now,
        )
        assert asdict(fast) == asdict(exact), (group, start, end)


def test_a_rebuild_gives_the_rollups_the_refresh_gave(loaded: Engine) -> None:
    StatsService(loaded).stats(*RANGES[0], "day")
    tables = ("metric_ticket_daily", "metric_draft_daily", "metric_action_daily")
    ordered = "ORDER BY dimension, key, day"
    before = [query(loaded, f"SELECT * FROM {t} {ordered}") for t in tables]
    assert all(before)
    rebuild(loaded)
    assert [query(loaded, f"SELECT * FROM {t} {ordered}") for t in tables] == before
    everything = query(
        loaded,
        "SELECT SUM(opened) AS opened FROM metric_ticket_daily WHERE dimension = 'category'",
    )
    assert everything == [{"opened": 6}]


def test_llm_drafts_cost_their_tokens_at_the_configured_prices(loaded: Engine) -> None:
    unpriced = StatsService(loaded).stats(*RANGES[0], "day").totals.drafts
    assert (unpriced.with_usage, unpriced.with_cost, unpriced.cost) == (1, 0, None)
    assert unpriced.cost_per_draft is None

    # d2: 100 prompt + 50 completion tokens: (100 * 2 + 50 * 8) / 1e6.
    priced = StatsService(loaded, config=PRICED).stats(*RANGES[0], "week")
    assert priced.totals.drafts.with_cost == 1
    assert priced.totals.drafts.cost == pytest.approx(600 / 1e6)
    assert priced.totals.drafts.cost_per_draft == pytest.approx(600 / 1e6)
    first_week = priced.groups[0].drafts
    assert first_week.cost == pytest.approx(600 / 1e6)
    assert priced.groups[1].drafts.cost is None
    rows = query(loaded, "SELECT day, drafter, drafts_with_cost, cost FROM metric_llm_cost_daily "
                 "WHERE drafter = 'llm'")  # fmt: skip
    assert len(rows) == 1
    assert rows[0]["drafts_with_cost"] == 1
    assert rows[0]["cost"] == pytest.approx(600 / 1e6)
