"""The weekly operations report's figures: one ISO week (Monday to Sunday, UTC) with the
seven before it for trends, forecasts for the week after it, and the staffing plan.

Read directly from the store (metrics.py); rendered by report_markdown.py and
report_charts.py.  ``build_report`` is what `triage report weekly` calls.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.conversations.policy import SlaPolicy
from app.operations.demo.marker import read_marker
from app.operations.forecasting.backtest import SeriesBacktest, backtest_series
from app.operations.forecasting.forecast import Forecast, PeriodTotal, period_total
from app.operations.forecasting.staffing import HandleTime, StaffingPlan, StaffingPolicy, plan_week
from app.operations.report import store_reads as metrics

TREND_WEEKS = 8
# Forecasts are fitted on at most this many days before the week's end: older traffic
# says little about next week and only slows the fits down.
MAX_HISTORY_DAYS = 26 * 7
FORECAST_DAYS = 14
LEVEL = 0.8


class ReportError(ValueError):
    """Nothing to report on (an empty store, a week without history)."""


@dataclass(frozen=True)
class SeriesOutlook:
    name: str
    this_week: int
    last_week: int
    next_week: PeriodTotal


@dataclass(frozen=True)
class SlaRow:
    priority: str
    tickets: int
    first_response_met: int
    first_response_decided: int
    resolution_met: int
    resolution_decided: int
    median_first_response_minutes: float | None

    @staticmethod
    def share(met: int, decided: int) -> float | None:
        return met / decided if decided else None


@dataclass
class WeeklyReport:
    week: date  # Monday
    generated_at: datetime
    demo: dict[str, Any] | None
    history_start: date
    daily_totals: list[int]  # from history_start to the week's end
    total_forecast: Forecast
    total_next_week: PeriodTotal
    categories: list[SeriesOutlook]
    channels: list[SeriesOutlook]
    sla_this_week: list[SlaRow]
    sla_weekly: dict[str, dict[date, float | None]]  # priority → week → first-response share
    decisions_weekly: dict[date, Counter[str]]
    reject_reasons: Counter[str]
    median_edit_distance: float | None
    staffing: StaffingPlan
    backtest: SeriesBacktest | None

    @property
    def week_end(self) -> date:
        return self.week + timedelta(days=7)

    @property
    def this_week_total(self) -> int:
        return sum(self.daily_totals[-7:])

    @property
    def last_week_total(self) -> int:
        return sum(self.daily_totals[-14:-7])


def default_week(session: Session, today: date) -> date:
    """The Monday of the last complete week before today that has tickets."""
    bounds = metrics.history_bounds(session)
    if bounds is None:
        raise ReportError("the store holds no tickets yet: nothing to report")
    last_day = min(today - timedelta(days=1), bounds[1])
    monday = metrics.week_start(last_day)
    return monday if last_day == monday + timedelta(days=6) else monday - timedelta(days=7)


def _outlooks(
    by: dict[str, list[int]], start: date, *, top: int | None = None
) -> list[SeriesOutlook]:
    out = []
    names = sorted(by, key=lambda n: -sum(by[n][-28:]))
    for name in names[:top] if top else names:
        values = by[name]
        _, total = period_total(values, 7, start=start, level=LEVEL)
        out.append(SeriesOutlook(name, sum(values[-7:]), sum(values[-14:-7]), total))
    return out


def _sla(
    session: Session, rows: list[metrics.TicketRow], policy: SlaPolicy, now: datetime, week: date
) -> tuple[list[SlaRow], dict[str, dict[date, float | None]]]:
    outcomes = metrics.sla_outcomes(session, rows, policy, now)
    weekly: dict[str, dict[date, list[int]]] = {}
    this_week: dict[str, list[Any]] = {}
    for o in outcomes:
        first = o.state.first_response
        decided = first.met_at is not None or first.breached
        w = metrics.week_start(o.created_at.date())
        cell = weekly.setdefault(o.priority, {}).setdefault(w, [0, 0])
        cell[0] += decided and not first.breached
        cell[1] += decided
        if w != week:
            continue
        resolution = o.state.resolution
        row = this_week.setdefault(o.priority, [0, 0, 0, 0, 0, []])
        row[0] += 1
        row[1] += decided and not first.breached
        row[2] += decided
        row[3] += resolution.met_at is not None and not resolution.breached
        row[4] += resolution.met_at is not None or resolution.breached
        if o.first_response_minutes is not None:
            row[5].append(o.first_response_minutes)
    table = [
        SlaRow(p, r[0], r[1], r[2], r[3], r[4], statistics.median(r[5]) if r[5] else None)
        for p, r in sorted(this_week.items())
    ]
    shares = {
        p: {w: (c[0] / c[1] if c[1] else None) for w, c in sorted(cells.items())}
        for p, cells in sorted(weekly.items())
    }
    return table, shares


def build_report(
    session: Session,
    *,
    week: date,
    sla_policy: SlaPolicy,
    staffing_policy: StaffingPolicy,
    now: datetime | None = None,
    backtest: bool = True,
) -> WeeklyReport:
    """Every figure of the report on the ISO week starting ``week`` (a Monday)."""
    if week.weekday() != 0:
        raise ReportError(f"{week} is not a Monday")
    bounds = metrics.history_bounds(session)
    if bounds is None:
        raise ReportError("the store holds no tickets yet: nothing to report")
    end = week + timedelta(days=7)
    start = max(bounds[0], end - timedelta(days=MAX_HISTORY_DAYS))
    if (end - start).days < 14:
        raise ReportError(
            f"only {(end - start).days} days of tickets before {end}: a forecast needs two weeks"
        )
    rows = metrics.load_tickets(session, start, end)
    totals = metrics.daily_counts(rows, start, end).get("all", [0] * (end - start).days)
    total_forecast, total_next = period_total(
        totals, FORECAST_DAYS, start=start, total_days=7, level=LEVEL
    )
    clock = now or datetime.now(UTC)
    report_now = min(clock, metrics.midnight(end))
    trend_start = end - timedelta(days=7 * TREND_WEEKS)
    trend_rows = [r for r in rows if r.created_at.date() >= trend_start]
    sla_rows, sla_weekly = _sla(session, trend_rows, sla_policy, report_now, week)
    decided = metrics.decisions(session, trend_start, end)
    this_week = [d for d in decided if d.at.date() >= week]
    distances = [d.edit_distance for d in this_week if d.outcome == "edited" and d.edit_distance]
    policy = staffing_policy
    handle_from = end - timedelta(days=7 * policy.handle_time_weeks)
    handle = HandleTime.from_samples(
        metrics.handle_minutes(session, handle_from, end), policy.default_handle_minutes
    )
    profile_rows = [r for r in rows if r.created_at.date() >= end - timedelta(days=28)]
    staffing = plan_week(
        list(total_forecast.point[:7]),
        start=end,
        profile=metrics.hourly_profile(profile_rows),
        handle=handle,
        target_minutes=policy.target_minutes(sla_policy),
        policy=policy,
    )
    return WeeklyReport(
        week=week,
        generated_at=clock,
        demo=read_marker(session),
        history_start=start,
        daily_totals=totals,
        total_forecast=total_forecast,
        total_next_week=total_next,
        categories=_outlooks(metrics.daily_counts(rows, start, end, "category"), start),
        channels=_outlooks(metrics.daily_counts(rows, start, end, "channel"), start),
        sla_this_week=sla_rows,
        sla_weekly=sla_weekly,
        decisions_weekly=metrics.counts_by_week((d.at.date(), d.outcome) for d in decided),
        reject_reasons=Counter(
            d.reason or "unspecified" for d in this_week if d.outcome == "rejected"
        ),
        median_edit_distance=statistics.median(distances) if distances else None,
        staffing=staffing,
        backtest=_backtest(totals, start) if backtest else None,
    )


def _backtest(totals: list[int], start: date) -> SeriesBacktest | None:
    try:
        return backtest_series("all tickets", totals, start=start)
    except ValueError:
        return None  # too short a history: the report says so
