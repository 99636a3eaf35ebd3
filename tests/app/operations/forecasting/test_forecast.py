"""Forecasts on a synthetic seasonal series: ETS beats seasonal naive in the backtest."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from app.operations.forecasting.backtest import backtest_series, mase_scale, origins_for
from app.operations.forecasting.forecast import ets_forecast, period_total, seasonal_naive

START = date(2026, 3, 2)  # a Monday
WEEK = np.array([1.2, 1.15, 1.1, 1.0, 0.9, 0.35, 0.3])


def seasonal_counts(days: int, base: float, seed: int) -> list[int]:
    """Poisson counts with a weekly profile and a slow upward trend."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    rate = base * 1.015 ** (t / 7) * WEEK[t % 7]
    return [int(v) for v in rng.poisson(rate)]


def test_ets_beats_seasonal_naive_on_a_seasonal_series() -> None:
    y = seasonal_counts(98, base=40, seed=11)
    result = backtest_series("synthetic", y, start=START, horizon=7, origins=6)
    assert result.origins == 6
    assert result.model.mase < result.baseline.mase
    assert result.model.mase < 1.0
    # 80 % intervals: roughly four days in five fall inside (42 days scored).
    assert 0.6 <= result.model.coverage <= 0.97


def test_forecast_keeps_the_weekly_shape_and_stays_non_negative() -> None:
    y = seasonal_counts(84, base=30, seed=3)
    forecast = ets_forecast(y, 14, start=START)
    assert forecast.start == START + timedelta(days=84)
    assert len(forecast.point) == 14
    weekdays = [p for d, p in zip(forecast.days, forecast.point, strict=True) if d.weekday() < 5]
    weekends = [p for d, p in zip(forecast.days, forecast.point, strict=True) if d.weekday() >= 5]
    assert min(weekdays) > 2 * max(weekends)
    for low, point, high in zip(forecast.lower, forecast.point, forecast.upper, strict=True):
        # Whole tickets: a bound is the nearest integer to the continuous one.
        assert 0 <= low <= point + 0.5
        assert point - 0.5 <= high
        assert low == round(low)


def test_a_weekly_total_has_an_interval_around_the_sum_of_days() -> None:
    y = seasonal_counts(70, base=20, seed=5)
    daily, total = period_total(y, 14, start=START, total_days=7)
    assert len(daily.point) == 14
    assert total.point == pytest.approx(sum(daily.point[:7]))
    assert total.lower < total.point < total.upper
    # The interval of a sum is narrower than the sum of the daily intervals.
    assert total.upper - total.lower < sum(daily.upper[:7]) - sum(daily.lower[:7])


def test_seasonal_naive_repeats_last_week() -> None:
    y = list(range(1, 22))
    forecast = seasonal_naive(y, 8, start=START)
    assert forecast.point[:7] == tuple(float(v) for v in y[-7:])
    assert forecast.point[7] == float(y[-7])
    assert forecast.upper[7] - forecast.point[7] > forecast.upper[0] - forecast.point[0]


def test_an_empty_series_forecasts_zero_and_origins_need_enough_history() -> None:
    assert ets_forecast([0] * 30, 7, start=START).point == (0.0,) * 7
    assert origins_for(40, horizon=7, origins=8, step=7, min_train=28) == [33]
    assert np.isnan(mase_scale(np.array([1.0, 2.0])))
    with pytest.raises(ValueError, match="too few"):
        backtest_series("short", [1] * 20, start=START)
