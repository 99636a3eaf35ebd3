"""Rolling-origin backtest of the daily forecasts against the seasonal-naive baseline.

For each origin the model is fitted on the days before it and forecasts the next
``horizon`` days; origins step back ``step`` days from the end of the series.  Scores:

* MASE (Hyndman & Koehler 2006): the forecast's MAE over the horizon divided by the
  in-sample MAE of the seasonal-naive forecast (lag 7) on the training days, averaged
  over origins.  The baseline forecast gets its own MASE on the same scale, so "beats
  seasonal naive" means a lower MASE than the baseline's (and below 1 means better than
  the in-sample naive error, the usual reading).
* Coverage: the share of actual days inside the forecast's interval (80 % by default).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from app.operations.forecasting.forecast import SEASON, Forecast, ets_forecast, seasonal_naive

Forecaster = Callable[[Sequence[float], int, date, float], Forecast]


def _ets(history: Sequence[float], horizon: int, start: date, level: float) -> Forecast:
    return ets_forecast(history, horizon, start=start, level=level)


def _naive(history: Sequence[float], horizon: int, start: date, level: float) -> Forecast:
    first = start + timedelta(days=len(history))
    return seasonal_naive(history, horizon, start=first, level=level)


@dataclass(frozen=True)
class Score:
    """One forecaster on one series, over every origin."""

    mase: float
    mae: float
    covered: int
    points: int

    @property
    def coverage(self) -> float:
        return self.covered / self.points if self.points else float("nan")


@dataclass(frozen=True)
class SeriesBacktest:
    name: str
    origins: int
    mean_volume: float
    model: Score
    baseline: Score

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "series": self.name,
            "origins": self.origins,
            "mean_per_day": round(self.mean_volume, 2),
            "mase": round(self.model.mase, 3),
            "baseline_mase": round(self.baseline.mase, 3),
            "coverage": round(self.model.coverage, 3),
            "baseline_coverage": round(self.baseline.coverage, 3),
        }


def origins_for(n: int, *, horizon: int, origins: int, step: int, min_train: int) -> list[int]:
    """Training lengths of the rolling origins, oldest first."""
    ends = [n - horizon - i * step for i in range(origins)]
    return sorted(e for e in ends if e >= min_train)


def mase_scale(train: np.ndarray) -> float:
    if len(train) <= SEASON:
        return float("nan")
    return float(np.mean(np.abs(train[SEASON:] - train[:-SEASON])))


def _score(
    forecaster: Forecaster,
    y: np.ndarray,
    cuts: Sequence[int],
    *,
    start: date,
    horizon: int,
    level: float,
) -> Score:
    scaled, errors, covered, points = [], [], 0, 0
    for cut in cuts:
        train, actual = y[:cut], y[cut : cut + horizon]
        forecast = forecaster(list(train), horizon, start, level)
        point = np.asarray(forecast.point)
        lower, upper = np.asarray(forecast.lower), np.asarray(forecast.upper)
        mae = float(np.mean(np.abs(actual - point)))
        scale = mase_scale(train)
        # A flat training stretch (scale 0) cannot scale an error; that origin is left out.
        if scale > 0:
            scaled.append(mae / scale)
        errors.append(mae)
        covered += int(np.sum((actual >= lower) & (actual <= upper)))
        points += len(actual)
    mase = float(np.mean(scaled)) if scaled else float("nan")
    return Score(mase, float(np.mean(errors)) if errors else float("nan"), covered, points)


def backtest_series(
    name: str,
    values: Sequence[float],
    *,
    start: date,
    horizon: int = 7,
    origins: int = 8,
    step: int = 7,
    level: float = 0.8,
    min_train: int = 28,
) -> SeriesBacktest:
    y = np.asarray(values, dtype=float)
    cuts = origins_for(len(y), horizon=horizon, origins=origins, step=step, min_train=min_train)
    if not cuts:
        raise ValueError(
            f"{name}: {len(y)} days are too few for a backtest "
            f"(at least {min_train + horizon} are needed)"
        )
    args = {"start": start, "horizon": horizon, "level": level}
    return SeriesBacktest(
        name=name,
        origins=len(cuts),
        mean_volume=float(np.mean(y)),
        model=_score(_ets, y, cuts, **args),  # type: ignore[arg-type]
        baseline=_score(_naive, y, cuts, **args),  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class BacktestSummary:
    series: list[SeriesBacktest]

    def pooled_coverage(self, *, baseline: bool = False) -> float:
        scores = [s.baseline if baseline else s.model for s in self.series]
        points = sum(s.points for s in scores)
        return sum(s.covered for s in scores) / points if points else float("nan")

    def beaten(self) -> int:
        """How many series the model forecasts with a lower MASE than the baseline."""
        return sum(1 for s in self.series if s.model.mase < s.baseline.mase)

    def as_dict(self) -> dict[str, object]:
        mases = [s.model.mase for s in self.series if np.isfinite(s.model.mase)]
        base = [s.baseline.mase for s in self.series if np.isfinite(s.baseline.mase)]
        return {
            "series": [s.as_dict() for s in self.series],
            "mean_mase": round(float(np.mean(mases)), 3) if mases else None,
            "mean_baseline_mase": round(float(np.mean(base)), 3) if base else None,
            "series_beating_baseline": self.beaten(),
            "coverage": round(self.pooled_coverage(), 3),
            "baseline_coverage": round(self.pooled_coverage(baseline=True), 3),
        }


def backtest_all(
    named: Mapping[str, Sequence[float]], *, start: date, **options: int | float
) -> BacktestSummary:
    return BacktestSummary(
        [backtest_series(name, values, start=start, **options) for name, values in named.items()]  # type: ignore[arg-type]
    )
