"""The stats page's volume forecast: the next days' tickets with their 80 % interval.

History is the daily ticket counts of the ``all`` rollup (metric_ticket_daily, one row
per day, so reading half a year costs the same at 100k tickets as at 1k), the complete
UTC days before today; the forecast starts today.  The model is the weekly report's
(app/operations/forecasting/forecast.py: ETS on √counts, chosen by AICc).

An ETS fit takes a few hundred milliseconds, far more than the rest of GET /v1/stats, so
fits are cached per process, keyed by the history itself: complete days change once a
day (or when a late refresh rewrites an old day), so every request after the first of
the day reads ~180 rollup rows and answers from the cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import Engine, text

from app.operations.forecasting.forecast import MIN_SEASONAL, Forecast, ets_forecast
from app.operations.metrics.config import MetricsConfig
from app.operations.metrics.refresh import refresh_stale

# Older traffic says little about the next two weeks and only slows the fit (the weekly
# report's bound, app/operations/report/weekly.py).
MAX_HISTORY_DAYS = 26 * 7
# Two weeks: the least that shows a weekly season (fewer days would forecast a flat
# line that the page would present as if it knew the weekly pattern).
MIN_HISTORY_DAYS = MIN_SEASONAL
LEVEL = 0.8
HORIZONS = range(7, 15)
_CACHE_SIZE = 16
REFRESH_LIMIT = 2000

_DAILY = text(
    "SELECT day, opened FROM metric_ticket_daily "
    "WHERE dimension = 'all' AND day >= :start AND day < :end"
)
_FIRST_DAY = text("SELECT MIN(day) FROM metric_ticket_daily WHERE dimension = 'all' AND opened > 0")

Status = Literal["ok", "short_history", "no_history"]


@dataclass(frozen=True)
class ForecastDay:
    day: date
    point: float
    lower: float
    upper: float


@dataclass(frozen=True)
class VolumeForecast:
    status: Status
    start: date  # the first forecast day (today, UTC)
    horizon: int
    level: float
    history_start: date | None  # the first day the model saw (None: no tickets yet)
    history_days: int  # complete days of history before ``start``
    min_history_days: int
    model: str | None
    days: list[ForecastDay]


class _FitCache:
    """A small LRU of forecasts by (first day, history, horizon); one fit at a time, so
    a burst of page loads at midnight fits once rather than once per request."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[object, ...], Forecast] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, start: date, history: tuple[int, ...], horizon: int) -> Forecast:
        key = (start, history, horizon)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            forecast = ets_forecast(history, horizon, start=start, level=LEVEL)
            self._items[key] = forecast
            if len(self._items) > self._size:
                self._items.popitem(last=False)
            return forecast


_FITS = _FitCache(_CACHE_SIZE)


def _first_day(engine: Engine) -> date | None:
    with engine.connect() as conn:
        first = conn.execute(_FIRST_DAY).scalar()
    return None if first is None else date.fromisoformat(str(first))


def daily_history(engine: Engine, start: date, end: date) -> list[int]:
    """Tickets opened per UTC day over [start, end), zero on days without a row."""
    counts = [0] * (end - start).days
    params = {"start": start.isoformat(), "end": end.isoformat()}
    with engine.connect() as conn:
        for day, opened in conn.execute(_DAILY, params):
            counts[(date.fromisoformat(str(day)) - start).days] = int(opened)
    return counts


def volume_forecast(
    engine: Engine,
    today: date,
    *,
    horizon: int = 14,
    config: MetricsConfig | None = None,
    cache: _FitCache = _FITS,
) -> VolumeForecast:
    """Forecast ``horizon`` days from ``today`` on the complete days before it."""
    if horizon not in HORIZONS:
        raise ValueError(f"horizon must be {HORIZONS.start}-{HORIZONS.stop - 1} days")
    refresh_stale(engine, limit=REFRESH_LIMIT, config=config)
    first = _first_day(engine)
    empty = VolumeForecast("no_history", today, horizon, LEVEL, None, 0, MIN_HISTORY_DAYS, None, [])
    if first is None:
        return empty
    history_start = min(max(first, today - timedelta(days=MAX_HISTORY_DAYS)), today)
    days = (today - history_start).days
    if days < MIN_HISTORY_DAYS:
        short: Status = "short_history"
        return replace(empty, status=short, history_start=history_start, history_days=days)
    history = tuple(daily_history(engine, history_start, today))
    forecast = cache.get(history_start, history, horizon)
    return VolumeForecast(
        status="ok",
        start=today,
        horizon=horizon,
        level=forecast.level,
        history_start=history_start,
        history_days=days,
        min_history_days=MIN_HISTORY_DAYS,
        model=forecast.model,
        days=[
            ForecastDay(day, point, lower, upper)
            for day, point, lower, upper in zip(
                forecast.days, forecast.point, forecast.lower, forecast.upper, strict=True
            )
        ],
    )
