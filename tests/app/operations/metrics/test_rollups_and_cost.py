"""The daily rollups give the same statistics as the fact rows for any range (whole days
from the rollups, partial ones from the facts), and LLM drafts get a cost at the
configured prices, on both databases (hand-computed fixture, metric_fixture.py)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, update

from app.operations.metrics.config import MetricsConfig
from app.operations.metrics.refresh import rebuild
from app.operations.metrics.stats import StatsService, split
from app.operations.metrics.stats_sql import GROUPS
from app.store.db import session_factory
from app.store.models import Ticket
from tests.app.operations.metric_fixture import ALICE, _message, query

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


# Alice comes back to T1 days after solving it: a ticket acted on before a range starts
# and again inside it, in a later week, counts once per group it is acted on in.
LATER_NOTE = datetime(2024, 3, 12, 10, 0, tzinfo=UTC)
MORE_RANGES = [
    (datetime(2024, 3, 4, 10, 30, tzinfo=UTC), datetime(2024, 3, 13, tzinfo=UTC)),
    (datetime(2024, 3, 3, 12, 0, tzinfo=UTC), datetime(2024, 3, 19, 6, 0, tzinfo=UTC)),
    (datetime(2024, 3, 6, 12, 0, tzinfo=UTC), datetime(2024, 3, 12, 11, 0, tzinfo=UTC)),
]


@pytest.mark.parametrize("group", GROUPS)
def test_rollups_answer_as_the_fact_rows_do(loaded: Engine, group: str) -> None:
    with session_factory(loaded).begin() as session:
        session.add(_message("tkt_01", 50, LATER_NOTE, "note", ALICE))
        session.execute(update(Ticket).where(Ticket.id == "tkt_01").values(updated_at=LATER_NOTE))
    now = datetime(2024, 6, 1, tzinfo=UTC)
    for start, end in RANGES + MORE_RANGES:
        fast = StatsService(loaded, config=PRICED).stats(start, end, group, now=now)  # type: ignore[arg-type]
        exact = StatsService(loaded, config=PRICED, use_rollups=False).stats(
            start,
            end,
            group,  # type: ignore[arg-type]
            now=now,
        )
        assert asdict(fast) == asdict(exact), (group, start, end)


def test_a_ticket_acted_on_before_and_inside_a_range_counts_once(loaded: Engine) -> None:
    with session_factory(loaded).begin() as session:
        session.add(_message("tkt_01", 50, LATER_NOTE, "note", ALICE))
        session.execute(update(Ticket).where(Ticket.id == "tkt_01").values(updated_at=LATER_NOTE))
    start, end = MORE_RANGES[0]
    by_agent = StatsService(loaded).stats(start, end, "agent")
    alice = next(r for r in by_agent.groups if r.key == "alice")
    assert alice.agents is not None
    # T1 (its note on 03-12 after solving it before the range) and T3.
    assert alice.agents.tickets == 2
    by_week = StatsService(loaded).stats(*MORE_RANGES[1], "week")
    assert by_week.totals.agents is not None
    weeks = {r.key: r.agents.tickets for r in by_week.groups if r.agents}
    # T1, T2, T3 in the first week; T1 again in the second (its note); three in all.
    assert weeks == {"2024-03-04": 3, "2024-03-11": 1}
    assert by_week.totals.agents.tickets == 3


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
