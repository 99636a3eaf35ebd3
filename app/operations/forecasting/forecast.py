"""Daily ticket-volume forecasts with prediction intervals (statsmodels' ETS).

Counts are modelled on their square root: for Poisson-like counts that makes the
variance nearly constant, so an additive ETS model (and its analytic intervals) fits
small and large series alike, and squaring the bounds back never gives a negative
volume.  Candidates are ETS(A,N,A) and ETS(A,Ad,A) with a weekly season (a damped trend
when volume grows), chosen by AICc; a series shorter than two weeks gets ETS(A,N,N).
The point forecast is the back-transformed median (the square of the forecast on the
square-root scale), which is what MAE and MASE reward.

The seasonal-naive baseline (each day as the same weekday a week earlier) gets the
normal intervals of Hyndman & Athanasopoulos (FPP3 §5.5): σ·√(k+1) after k whole weeks.

Interval bounds are whole tickets: a continuous forecast X stands for the count Y with
P(Y = y) ≈ P(y − ½ < X ≤ y + ½) (the continuity correction), so the integers an
interval [l, u] of X covers run from round(l) to round(u).  Both forecasters get the
same correction; without it a day of 3 tickets falls outside [3.2, 7.9] although
the model gave it its share of probability.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from scipy.stats import norm

SEASON = 7
MIN_SEASONAL = 2 * SEASON


def whole(bounds: np.ndarray) -> tuple[float, ...]:
    """Interval bounds of a count, continuity-corrected (see the module docstring)."""
    return tuple(float(b) for b in np.round(np.maximum(bounds, 0.0)))


@dataclass(frozen=True)
class Forecast:
    start: date  # the first forecast day
    point: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    level: float
    model: str

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(len(self.point))]


def seasonal_naive(
    history: Sequence[float], horizon: int, *, start: date, level: float = 0.8
) -> Forecast:
    y = np.asarray(history, dtype=float)
    m = SEASON if len(y) >= SEASON else 1
    last = y[-m:]
    point = np.array([last[i % m] for i in range(horizon)])
    residuals = y[m:] - y[:-m]
    sigma = float(np.sqrt(np.mean(residuals**2))) if len(residuals) else float(np.std(y))
    z = float(norm.ppf(0.5 + level / 2))
    spread = np.array([sigma * math.sqrt(i // m + 1) for i in range(horizon)])
    return Forecast(
        start=start,
        point=tuple(point),
        lower=whole(point - z * spread),
        upper=whole(point + z * spread),
        level=level,
        model="seasonal naive",
    )


@dataclass
class FittedETS:
    """An ETS model fitted on the square root of a daily series."""

    result: Any  # statsmodels ETSResults
    n: int
    start: date
    name: str

    def forecast(self, horizon: int, *, level: float = 0.8) -> Forecast:
        with _Silenced():
            frame = self.result.get_prediction(start=self.n, end=self.n + horizon - 1)
            summary = frame.summary_frame(alpha=1.0 - level)
        mean = np.maximum(np.asarray(summary["mean"], dtype=float), 0.0)
        lower = np.maximum(np.asarray(summary["pi_lower"], dtype=float), 0.0)
        upper = np.maximum(np.asarray(summary["pi_upper"], dtype=float), 0.0)
        return Forecast(
            start=self.start + timedelta(days=self.n),
            point=tuple(mean**2),
            lower=whole(lower**2),
            upper=whole(upper**2),
            level=level,
            model=self.name,
        )

    def sample_paths(self, horizon: int, *, paths: int = 500, seed: int = 0) -> np.ndarray:
        """Simulated future volumes, shape (horizon, paths): for sums such as a week."""
        with _Silenced():
            simulated = self.result.simulate(
                nsimulations=horizon,
                repetitions=paths,
                anchor="end",
                rng=np.random.default_rng(seed),
            )
        values = np.asarray(simulated, dtype=float).reshape(horizon, paths)
        squared: np.ndarray = np.maximum(values, 0.0) ** 2
        return squared


class _Silenced:
    """An optimiser that stops early on a short or flat series still gives a usable fit;
    statsmodels says so with warnings, which must not reach the caller's log (nor fail a
    run that treats warnings as errors)."""

    def __enter__(self) -> None:
        self._context = warnings.catch_warnings()
        self._context.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc: object) -> None:
        self._context.__exit__(None, None, None)


def _candidates(n: int) -> list[tuple[str, dict[str, Any]]]:
    if n < MIN_SEASONAL:
        return [("ETS(A,N,N) on √y", {"trend": None, "seasonal": None})]
    seasonal = {"seasonal": "add", "seasonal_periods": SEASON}
    return [
        ("ETS(A,N,A) on √y", {"trend": None, **seasonal}),
        ("ETS(A,Ad,A) on √y", {"trend": "add", "damped_trend": True, **seasonal}),
    ]


def fit_ets(history: Sequence[float], *, start: date) -> FittedETS:
    """The candidate with the lowest AICc, fitted on √history (daily, from ``start``)."""
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = np.sqrt(np.maximum(np.asarray(history, dtype=float), 0.0))
    if len(y) < 4:
        raise ValueError("at least 4 days of history are needed to forecast")
    # A date index with its frequency: statsmodels' prediction needs one to label steps.
    series = pd.Series(y, index=pd.date_range(start, periods=len(y), freq="D"))
    best: FittedETS | None = None
    best_aicc = math.inf
    for name, spec in _candidates(len(y)):
        try:
            with _Silenced():
                result = ETSModel(series, error="add", **spec).fit(disp=False)
        except (ValueError, np.linalg.LinAlgError):
            continue
        aicc = float(result.aicc)
        if best is None or (math.isfinite(aicc) and aicc < best_aicc):
            best, best_aicc = FittedETS(result, len(y), start, name), aicc
    if best is None:
        raise ValueError("no ETS model could be fitted to this series")
    return best


def ets_forecast(
    history: Sequence[float], horizon: int, *, start: date, level: float = 0.8
) -> Forecast:
    """Forecast ``horizon`` days after a history starting on ``start``; a series with no
    volume at all, or one no model fits, falls back to the seasonal-naive forecast."""
    if not any(history):
        first = start + timedelta(days=len(history))
        return seasonal_naive(history, horizon, start=first, level=level)
    try:
        return fit_ets(history, start=start).forecast(horizon, level=level)
    except ValueError:
        first = start + timedelta(days=len(history))
        return seasonal_naive(history, horizon, start=first, level=level)


@dataclass(frozen=True)
class PeriodTotal:
    """A forecast of the sum of the next ``days`` days, with its interval."""

    point: float
    lower: float
    upper: float
    model: str


def period_total(
    history: Sequence[float],
    days: int,
    *,
    start: date,
    total_days: int | None = None,
    level: float = 0.8,
    seed: int = 0,
) -> tuple[Forecast, PeriodTotal]:
    """The daily forecast over ``days`` days and the total of its first ``total_days``
    (default all): the interval of a sum comes from simulated sample paths, as the
    daily bounds do not add up."""
    span = total_days or days
    fitted: FittedETS | None = None
    if any(history):
        try:
            fitted = fit_ets(history, start=start)
        except ValueError:
            fitted = None
    if fitted is None:
        first = start + timedelta(days=len(history))
        daily = seasonal_naive(history, days, start=first, level=level)
        point, lower, upper = daily.point[:span], daily.lower[:span], daily.upper[:span]
        return daily, PeriodTotal(sum(point), sum(lower), sum(upper), daily.model)
    daily = fitted.forecast(days, level=level)
    sums = fitted.sample_paths(span, seed=seed).sum(axis=0)
    tail = (1.0 - level) / 2
    low, high = whole(np.quantile(sums, [tail, 1.0 - tail]))
    return daily, PeriodTotal(sum(daily.point[:span]), low, high, daily.model)
