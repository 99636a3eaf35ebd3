"""The stats page's volume forecast on both databases: fitted on the complete days
before today, keeping the weekly season; too short a history says so; fits are cached."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from app.operations.forecasting import forecast as forecasting
from app.operations.metrics import volume_forecast as module
from app.operations.metrics.refresh import refresh_stale
from app.operations.metrics.volume_forecast import daily_history, volume_forecast
from app.store.db import session_factory
from tests.app.operations.volume_history import WEEKDAY, WEEKEND, add_volume, weekly_pattern

TODAY = date(2026, 5, 18)  # a Monday


def _history(engine: Engine, days: int, today_count: int = 0) -> None:
    first = TODAY - timedelta(days=days)
    with session_factory(engine).begin() as session:
        add_volume(session, first, weekly_pattern(first, days))
        add_volume(session, TODAY, [today_count], prefix="today")


def test_forecast_keeps_the_weekly_season(engine: Engine) -> None:
    _history(engine, 42, today_count=1)
    result = volume_forecast(engine, TODAY, horizon=14, cache=module._FitCache(4))
    assert result.status == "ok"
    assert (result.start, result.history_days, result.level) == (TODAY, 42, 0.8)
    assert [d.day for d in result.days] == [TODAY + timedelta(days=i) for i in range(14)]
    for day in result.days:
        assert day.lower <= day.upper
        expected = WEEKEND if day.day.weekday() >= 5 else WEEKDAY
        assert day.lower - 1 <= expected <= day.upper + 1
    weekdays = [d.point for d in result.days if d.day.weekday() < 5]
    weekends = [d.point for d in result.days if d.day.weekday() >= 5]
    assert min(weekdays) > max(weekends)


def test_today_is_not_history_and_quiet_days_are_zero(engine: Engine) -> None:
    _history(engine, 14, today_count=5)
    refresh_stale(engine)
    counts = daily_history(engine, TODAY - timedelta(days=16), TODAY + timedelta(days=1))
    assert counts[:2] == [0, 0]
    assert counts[2:-1] == weekly_pattern(TODAY - timedelta(days=14), 14)
    assert counts[-1] == 5


@pytest.mark.parametrize(("days", "status"), [(0, "short_history"), (13, "short_history")])
def test_too_short_a_history_is_said_not_guessed(engine: Engine, days: int, status: str) -> None:
    _history(engine, days, today_count=2)
    result = volume_forecast(engine, TODAY, horizon=7, cache=module._FitCache(4))
    assert (result.status, result.history_days, result.days) == (status, days, [])
    assert result.min_history_days == 14


def test_an_empty_store_has_no_history(engine: Engine) -> None:
    result = volume_forecast(engine, TODAY, cache=module._FitCache(4))
    assert (result.status, result.history_start, result.days) == ("no_history", None, [])


def test_a_fit_is_reused_until_the_history_changes(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    fits: list[Any] = []
    real = forecasting.ets_forecast

    def counting(*args: Any, **kwargs: Any) -> Any:
        fits.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "ets_forecast", counting)
    cache = module._FitCache(4)
    _history(engine, 21)
    first = volume_forecast(engine, TODAY, cache=cache)
    with session_factory(engine).begin() as session:
        add_volume(session, TODAY, [3], prefix="later")  # today's tickets: same history
    assert volume_forecast(engine, TODAY, cache=cache) == first
    assert len(fits) == 1
    tomorrow = volume_forecast(engine, TODAY + timedelta(days=1), cache=cache)
    assert len(fits) == 2
    assert tomorrow.start == TODAY + timedelta(days=1)


def test_history_is_bounded(engine: Engine) -> None:
    _history(engine, module.MAX_HISTORY_DAYS + 30)
    result = volume_forecast(engine, TODAY, horizon=7, cache=module._FitCache(4))
    assert result.history_days == module.MAX_HISTORY_DAYS
    assert result.history_start == TODAY - timedelta(days=module.MAX_HISTORY_DAYS)
