"""The demo history's arrival process has the seasonality, trend and bursts its docs
describe (docs/demo-history.md), measured on a long, busy draw."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import numpy as np

from app.operations.demo.arrivals import arrivals, expected_per_day, hour_shares
from app.operations.demo.config import WEEKDAYS, load_demo_config

START = date(2026, 3, 2)  # a Monday


def test_weekday_hour_and_trend_follow_the_documented_formula() -> None:
    config = load_demo_config()
    busy = config.arrivals.model_copy(update={"base_per_day": 400.0})
    days = 84
    drawn, _ = arrivals(busy, START, days, np.random.default_rng(0))
    ordinary = [a for a in drawn if a.incident is None]
    by_day = Counter((a.at.date() - START).days for a in ordinary)

    # Weekday factors: observed mean per weekday over expected, within a few percent.
    for weekday, name in enumerate(WEEKDAYS):
        indexes = [i for i in range(days) if (START + timedelta(days=i)).weekday() == weekday]
        observed = sum(by_day[i] for i in indexes)
        expected = sum(expected_per_day(busy, i, START + timedelta(days=i)) for i in indexes)
        assert abs(observed / expected - 1) < 0.08, name

    # Hour of day on weekdays: the observed shares track the configured weights.
    weekday_hours = Counter(a.at.hour for a in ordinary if a.at.weekday() < 5)
    total = sum(weekday_hours.values())
    shares = hour_shares(busy, START)
    for hour in range(24):
        assert abs(weekday_hours[hour] / total - shares[hour]) < 0.01, hour

    # Trend: the last four weeks are busier than the first four by about (1+g)^8.
    first = sum(by_day[i] for i in range(28))
    last = sum(by_day[i] for i in range(days - 28, days))
    growth = (1 + busy.weekly_growth) ** 8
    assert abs(last / first / growth - 1) < 0.05


def test_incident_bursts_are_inside_their_windows_and_the_draw_is_reproducible() -> None:
    config = load_demo_config().arrivals
    drawn, incidents = arrivals(config, START, 120, np.random.default_rng(7))
    again, _ = arrivals(config, START, 120, np.random.default_rng(7))
    assert [a.at for a in drawn] == [a.at for a in again]
    assert len(incidents) == round(config.incidents.per_week * 120 / 7)
    for incident in incidents:
        members = [a for a in drawn if a.incident == incident.index]
        assert members, "a burst brings tickets"
        assert all(incident.start <= a.at < incident.end for a in members)
        assert incident.start.weekday() < 5
    assert [a.at for a in drawn] == sorted(a.at for a in drawn)
