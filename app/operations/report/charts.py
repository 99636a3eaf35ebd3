"""The weekly report's PNG charts.

Drawn on ``matplotlib.figure.Figure`` with the Agg canvas directly (as the eval report
does): no pyplot state, no display, no network; the fonts are matplotlib's own.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from app.operations.report.weekly import TREND_WEEKS, WeeklyReport

DECISION_COLOURS = {
    "approved": "tab:green",
    "edited": "tab:olive",
    "rejected": "tab:red",
    "handwritten": "tab:purple",
    "escalated": "tab:orange",
}
PRIORITY_COLOURS = {"P1": "tab:red", "P2": "tab:orange", "P3": "tab:blue", "P4": "tab:grey"}
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def volume_chart(report: WeeklyReport, path: Path) -> None:
    """Daily tickets over the trend weeks, and the forecast with its interval."""
    shown = 7 * TREND_WEEKS
    days = [report.history_start + timedelta(days=i) for i in range(len(report.daily_totals))]
    fig = _figure(9, 3.8)
    ax = fig.add_subplot()
    ax.plot(
        days[-shown:],
        report.daily_totals[-shown:],
        color="black",
        linewidth=1.2,
        label="tickets per day",
    )
    forecast = report.total_forecast
    level = round(forecast.level * 100)
    ax.fill_between(
        forecast.days,
        forecast.lower,
        forecast.upper,
        color="tab:blue",
        alpha=0.25,
        label=f"{level} % interval",
    )
    ax.plot(
        forecast.days,
        forecast.point,
        color="tab:blue",
        linewidth=1.5,
        label=f"forecast ({forecast.model})",
    )
    ax.axvspan(report.week, report.week_end, color="tab:grey", alpha=0.12, label="report week")
    ax.set_ylabel("tickets per day (UTC)")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.savefig(path, dpi=100)


def categories_chart(report: WeeklyReport, path: Path) -> None:
    """This week's tickets per category beside next week's forecast and its interval."""
    rows = list(reversed(report.categories))
    fig = _figure(8, 0.35 * len(rows) + 1.4)
    ax = fig.add_subplot()
    ys = range(len(rows))
    ax.barh(
        [y + 0.2 for y in ys],
        [r.this_week for r in rows],
        height=0.4,
        color="tab:grey",
        label="this week",
    )
    points = [r.next_week.point for r in rows]
    errors = [
        [max(p - r.next_week.lower, 0) for p, r in zip(points, rows, strict=True)],
        [max(r.next_week.upper - p, 0) for p, r in zip(points, rows, strict=True)],
    ]
    ax.barh(
        [y - 0.2 for y in ys],
        points,
        height=0.4,
        color="tab:blue",
        xerr=errors,
        error_kw={"elinewidth": 1, "capsize": 2},
        label="next week (forecast, 80 %)",
    )
    ax.set_yticks(list(ys), labels=[r.name for r in rows], fontsize=8)
    ax.set_xlabel("tickets")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.savefig(path, dpi=100)


def sla_chart(report: WeeklyReport, path: Path) -> None:
    """First-response SLA attainment per priority, week by week."""
    fig = _figure(8, 3.5)
    ax = fig.add_subplot()
    for priority, weeks in report.sla_weekly.items():
        points = [(w, v * 100) for w, v in weeks.items() if v is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o", color=PRIORITY_COLOURS.get(priority), label=priority)
    ax.set_ylim(0, 105)
    ax.set_ylabel("first response within SLA (%)")
    ax.set_xlabel("week starting")
    ax.legend(loc="lower left", fontsize=8, ncols=4)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.savefig(path, dpi=100)


def acceptance_chart(report: WeeklyReport, path: Path) -> None:
    """What agents did with drafts each week (stacked)."""
    weeks = sorted(report.decisions_weekly)
    fig = _figure(8, 3.5)
    ax = fig.add_subplot()
    bottom = [0] * len(weeks)
    labels = [w.strftime("%d %b") for w in weeks]
    for outcome, colour in DECISION_COLOURS.items():
        values = [report.decisions_weekly[w][outcome] for w in weeks]
        ax.bar(labels, values, bottom=bottom, color=colour, label=outcome)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("decisions")
    ax.set_xlabel("week starting")
    ax.legend(loc="upper left", fontsize=8, ncols=5)
    ax.grid(axis="y", alpha=0.3)
    fig.savefig(path, dpi=100)


def staffing_chart(report: WeeklyReport, path: Path) -> None:
    """Agents to schedule per hour of next week (shrinkage included)."""
    plan = report.staffing
    matrix = [[h.scheduled for h in day] for day in plan.hours]
    fig = _figure(10, 3.6)
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues", aspect="auto")
    fig.colorbar(image, ax=ax, shrink=0.8, label="agents")
    ax.set_xticks(range(24), labels=[f"{h:02d}" for h in range(24)], fontsize=7)
    ax.set_yticks(
        range(len(plan.days)),
        labels=[f"{DAY_NAMES[d.weekday()]} {d:%d %b}" for d in plan.days],
        fontsize=8,
    )
    ax.set_xlabel("hour (UTC)")
    peak = max((max(row, default=0) for row in matrix), default=0)
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            colour = "white" if peak and value > peak / 2 else "black"
            ax.text(j, i, str(value), ha="center", va="center", fontsize=7, color=colour)
    fig.savefig(path, dpi=100)


CHARTS = {
    "volume_forecast.png": volume_chart,
    "categories.png": categories_chart,
    "sla_attainment.png": sla_chart,
    "acceptance.png": acceptance_chart,
    "staffing.png": staffing_chart,
}


def write_charts(report: WeeklyReport, out: Path) -> list[Path]:
    written = []
    for name, draw in CHARTS.items():
        path = out / name
        draw(report, path)
        written.append(path)
    return written
