"""Timings in business hours (TRIAGE_BUSINESS_HOURS), computed when fact rows are
refreshed and read by the views and /v1/stats on both databases: across a weekend and
outside the working day.  Mexico City is UTC-6 all year (no daylight saving since 2022).

- T_fri  opened Fri 03-08 17:00 local; draft Mon 10:00, approved Mon 11:00, solved Mon
  12:00: 1 h on Friday + 1 h on Monday to the draft (wall-clock 65 h).
- T_sat  opened Sat 03-09 12:00 local; draft Mon 09:30: half an hour.
- T_night opened Mon 03-11 20:00 local; draft Tue 08:00: none.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Engine

from app.operations.metrics.business import business_seconds
from app.operations.metrics.config import MetricsConfig
from app.operations.metrics.stats import StatsService
from app.settings import BusinessHoursSetting
from app.store.db import session_factory
from tests.app.operations.metric_fixture import ALICE, _draft, _message, _ticket, query

HOURS = BusinessHoursSetting(
    timezone="America/Mexico_City", days=(0, 1, 2, 3, 4), start=time(9), end=time(18)
)
CONFIG = MetricsConfig(business_hours=HOURS)
MARCH = (datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC))


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A Mexico City wall time as UTC (UTC-6)."""
    return datetime(2024, 3, day, hour, minute, tzinfo=UTC) + timedelta(hours=6)


def _load(engine: Engine) -> None:
    def ticket(ticket_id: str, opened: datetime, status: str = "pending_review") -> object:
        return _ticket(
            ticket_id, opened, channel="api", category="auth", priority="P2",
            team="platform", status=status, triage={"language": "en"},
        )  # fmt: skip

    with session_factory(engine).begin() as session:
        session.add_all(
            [
                ticket("tkt_fri", local(8, 17), "solved"),
                ticket("tkt_sat", local(9, 12)),
                ticket("tkt_night", local(11, 20)),
            ]
        )
        session.flush()
        approved = _draft("drf_fri", "tkt_fri", 1, local(11, 10), "approved", approved_by=ALICE)
        approved.approved_at = local(11, 11)
        session.add_all(
            [
                approved,
                _draft("drf_sat", "tkt_sat", 1, local(11, 9, 30), "pending"),
                _draft("drf_night", "tkt_night", 1, local(12, 8), "pending"),
            ]
        )
        session.flush()
        session.add(_message("tkt_fri", 2, local(11, 12), "system", ALICE, event="solved"))


def test_working_seconds_skip_the_weekend_and_the_night() -> None:
    hours = CONFIG.hours
    assert hours is not None
    assert business_seconds(local(8, 17), 65 * 3600, hours) == 7200
    assert business_seconds(local(9, 12), 45 * 3600 + 1800, hours) == 1800
    assert business_seconds(local(11, 20), 12 * 3600, hours) == 0
    assert business_seconds(local(11, 20), None, hours) is None


def test_stats_report_business_hours_beside_wall_clock(engine: Engine) -> None:
    _load(engine)
    totals = StatsService(engine, config=CONFIG).stats(*MARCH, "day").totals
    business = totals.tickets.business_timings
    assert business is not None
    # (count, p50, p90, p95, max): first drafts in [0, 1800, 7200] business seconds.
    first_draft = business["first_draft"]
    assert (first_draft.count, first_draft.p50_seconds, first_draft.max_seconds) == (3, 1800, 7200)
    assert (business["first_response"].count, business["first_response"].max_seconds) == (1, 10800)
    assert (business["approval"].p50_seconds, business["resolution"].p50_seconds) == (10800, 14400)
    wall = totals.tickets.timings["first_draft"]
    assert (wall.p50_seconds, wall.max_seconds) == (45 * 3600 + 1800, 65 * 3600)


def test_without_business_hours_none_are_reported_and_a_change_refreshes(engine: Engine) -> None:
    _load(engine)
    plain = StatsService(engine).stats(*MARCH, "week")
    assert plain.totals.tickets.business_timings is None
    assert all(row.tickets.business_timings is None for row in plain.groups)
    assert query(engine, "SELECT COUNT(business_seconds_to_first_draft) AS n "
                 "FROM metric_ticket_facts") == [{"n": 0}]  # fmt: skip

    # Configuring hours later: the rows computed without them are refreshed.
    by_week = StatsService(engine, config=CONFIG).stats(*MARCH, "week")
    weeks = {row.key: row.tickets.business_timings for row in by_week.groups}
    assert weeks["2024-03-04"] is not None
    assert weeks["2024-03-04"]["first_draft"].max_seconds == 7200
    rows = query(
        engine,
        "SELECT ticket_id, seconds FROM metric_ticket_business_timings "
        "WHERE measure = 'first_draft' ORDER BY ticket_id",
    )
    assert rows == [
        {"ticket_id": "tkt_fri", "seconds": 7200},
        {"ticket_id": "tkt_night", "seconds": 0},
        {"ticket_id": "tkt_sat", "seconds": 1800},
    ]
