"""The weekly report as Markdown a team lead pastes into a review (charts beside it)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from app.operations.report.charts import DAY_NAMES, write_charts
from app.operations.report.weekly import SeriesOutlook, SlaRow, WeeklyReport

DECISIONS = ("approved", "edited", "rejected", "handwritten", "escalated")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def _change(now: float, before: float) -> str:
    if before == 0:
        return "–"
    return f"{(now - before) / before * 100:+.0f} %"


def _minutes(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.0f} min" if value < 120 else f"{value / 60:.1f} h"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _outlook_rows(outlooks: Sequence[SeriesOutlook]) -> list[list[str]]:
    return [
        [
            o.name,
            str(o.last_week),
            str(o.this_week),
            _change(o.this_week, o.last_week),
            f"{o.next_week.point:.0f} ({o.next_week.lower:.0f}–{o.next_week.upper:.0f})",
        ]
        for o in outlooks
    ]


def _sla_rows(rows: Sequence[SlaRow]) -> list[list[str]]:
    return [
        [
            r.priority,
            str(r.tickets),
            _pct(SlaRow.share(r.first_response_met, r.first_response_decided)),
            str(r.first_response_decided - r.first_response_met),
            _minutes(r.median_first_response_minutes),
            _pct(SlaRow.share(r.resolution_met, r.resolution_decided)),
        ]
        for r in rows
    ]


def _demo_banner(demo: dict[str, Any] | None) -> list[str]:
    if demo is None:
        return []
    return [
        f"> **Demo data.** Simulated history written by `triage demo history` "
        f"({demo.get('days')} days from {demo.get('start')}, seed {demo.get('seed')}); "
        "no real customer wrote these tickets.",
        "",
    ]


def _summary(r: WeeklyReport) -> list[str]:
    decided: Counter[str] = r.decisions_weekly.get(r.week, Counter())
    drafts = sum(decided[k] for k in ("approved", "edited", "rejected"))
    first_met = sum(s.first_response_met for s in r.sla_this_week)
    first_decided = sum(s.first_response_decided for s in r.sla_this_week)
    nxt = r.total_next_week
    attained = first_met / first_decided if first_decided else None
    approved = decided["approved"] / drafts if drafts else None
    return [
        f"- **{r.this_week_total} tickets** ({_change(r.this_week_total, r.last_week_total)} "
        f"on the week before, {r.last_week_total}).",
        f"- **First response within SLA: {_pct(attained)}**"
        f" ({first_decided - first_met} breaches).",
        f"- **Drafts approved unedited: {_pct(approved)}**"
        f" of {drafts} reviewed; {decided['handwritten']} replies written by hand.",
        f"- **Next week: {nxt.point:.0f} tickets expected** (80 % interval "
        f"{nxt.lower:.0f}–{nxt.upper:.0f}); peak staffing "
        f"{max(r.staffing.peak(d) for d in range(len(r.staffing.hours)))} agents.",
    ]


def _staffing(r: WeeklyReport) -> list[str]:
    plan = r.staffing
    policy = plan.policy
    handle = plan.handle
    measured = (
        f"measured over {handle.measured} replies in the last {policy.handle_time_weeks} weeks"
        if handle.measured
        else "configured default (no replies measured)"
    )
    lines = [
        f"Erlang C per hour: {policy.service_goal * 100:.0f} % of tickets picked up within "
        f"{plan.target_minutes:.0f} min, handle time {handle.minutes:.1f} min ({measured}), "
        f"occupancy at most {policy.max_occupancy * 100:.0f} %, shrinkage "
        f"{policy.shrinkage * 100:.0f} %. Volume: the daily forecast spread over the hours as "
        "the last four weeks arrived.",
        "",
        "![Agents per hour](staffing.png)",
        "",
    ]
    header = ["day", "forecast tickets", "agent-hours", "peak agents", "busiest hour (UTC)"]
    rows = []
    for i, day in enumerate(plan.days):
        hours = plan.hours[i]
        busiest = max(range(24), key=lambda h: hours[h].arrivals)
        rows.append(
            [
                f"{DAY_NAMES[day.weekday()]} {day:%d %b}",
                f"{sum(h.arrivals for h in hours):.0f}",
                str(plan.agent_hours(i)),
                str(plan.peak(i)),
                f"{busiest:02d}:00 ({hours[busiest].arrivals:.1f} tickets, "
                f"{hours[busiest].scheduled} agents)",
            ]
        )
    return lines + _table(header, rows)


def _acceptance(r: WeeklyReport) -> list[str]:
    weeks = sorted(r.decisions_weekly)[-4:]
    rows = [[f"{w:%d %b}", *(str(r.decisions_weekly[w][k]) for k in DECISIONS)] for w in weeks]
    reasons = ", ".join(f"{k} {v}" for k, v in r.reject_reasons.most_common()) or "none"
    distance = (
        f"{r.median_edit_distance:.0f} characters" if r.median_edit_distance is not None else "–"
    )
    return [
        "![Draft decisions per week](acceptance.png)",
        "",
        *_table(["week starting", *DECISIONS], rows),
        "",
        f"Rejections this week by reason: {reasons}. Median edit distance of edited drafts: "
        f"{distance}.",
    ]


def _accuracy(r: WeeklyReport) -> list[str]:
    bt = r.backtest
    if bt is None:
        return ["Not enough history for a backtest yet (five weeks are needed)."]
    return [
        f"Rolling-origin backtest of the daily total ({bt.origins} origins, 7-day horizon): "
        f"MASE {bt.model.mase:.2f} against {bt.baseline.mase:.2f} for the seasonal-naive "
        f"forecast; the 80 % interval covered {bt.model.coverage * 100:.0f} % of the days "
        f"({bt.baseline.coverage * 100:.0f} % for seasonal naive).",
    ]


def render(r: WeeklyReport) -> str:
    sunday = r.week_end - timedelta(days=1)
    lines = [
        f"# Support operations: week of {r.week:%d %b %Y} – {sunday:%d %b %Y}",
        "",
        *_demo_banner(r.demo),
        *_summary(r),
        "",
        "## Volume and forecast",
        "",
        "![Tickets per day and forecast](volume_forecast.png)",
        "",
        *_table(
            ["category", "last week", "this week", "change", "next week (80 % interval)"],
            _outlook_rows(r.categories),
        ),
        "",
        "![Tickets per category](categories.png)",
        "",
        *_table(
            ["channel", "last week", "this week", "change", "next week (80 % interval)"],
            _outlook_rows(r.channels),
        ),
        "",
        "## SLA attainment",
        "",
        "![First response within SLA per priority](sla_attainment.png)",
        "",
        *_table(
            [
                "priority",
                "tickets",
                "first response in SLA",
                "breaches",
                "median first response",
                "resolution in SLA",
            ],
            _sla_rows(r.sla_this_week),
        ),
        "",
        "Tickets created this week; a clock still running and not yet due is left out.",
        "",
        "## Draft acceptance",
        "",
        *_acceptance(r),
        "",
        "## Staffing for next week",
        "",
        *_staffing(r),
        "",
        "## Forecast accuracy",
        "",
        *_accuracy(r),
        "",
        f"_Generated {r.generated_at:%Y-%m-%d %H:%M} UTC by `triage report weekly`; times "
        "are UTC._",
        "",
    ]
    return "\n".join(lines)


def write_report(report: WeeklyReport, out: Path) -> dict[str, Any]:
    """report.md and its PNGs in ``out``; returns what was written (the CLI's JSON)."""
    out.mkdir(parents=True, exist_ok=True)
    charts = write_charts(report, out)
    markdown = out / "report.md"
    markdown.write_text(render(report), encoding="utf-8")
    document = {
        "week": report.week.isoformat(),
        "out": str(out),
        "markdown": str(markdown),
        "charts": [str(p) for p in charts],
        "demo": report.demo is not None,
        "tickets": report.this_week_total,
        "next_week": {
            "point": round(report.total_next_week.point, 1),
            "lower": round(report.total_next_week.lower, 1),
            "upper": round(report.total_next_week.upper, 1),
            "model": report.total_next_week.model,
        },
        "handle_minutes": round(report.staffing.handle.minutes, 2),
        "backtest": None if report.backtest is None else report.backtest.as_dict(),
    }
    (out / "report.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return document
