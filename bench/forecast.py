"""Backtest of the volume forecasts on a (demo) history: MASE and 80 % interval coverage
per series, against the seasonal-naive baseline.

Series: all tickets per day, per (agent-corrected) category and per channel.  Each is
backtested with rolling origins (app/operations/forecasting/backtest.py): ETS on √counts against
"same weekday last week".  Goals (issue 18): MASE < 1 and coverage 75–85 %.

    # read an existing history (e.g. one `triage demo history` wrote)
    python bench/forecast.py --database-url sqlite:////tmp/demo/triage.db
    # build one first: a data dir whose collection holds the Grid docs, a new database
    python bench/forecast.py --build 120 --data-dir /tmp/kb --database-url sqlite:////tmp/h.db
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from _common import SHARED_DATA

from app.operations.demo.config import load_demo_config
from app.operations.demo.history import HistoryRequest, write_history
from app.operations.demo.marker import read_marker
from app.operations.forecasting.backtest import BacktestSummary, backtest_series
from app.operations.report import store_reads as metrics
from app.settings import Settings
from app.store import create_engine_for, session_factory


def build(args: argparse.Namespace) -> None:
    settings = Settings(data_dir=args.data_dir, database_url=args.database_url)
    request = HistoryRequest(
        days=args.build,
        seed=args.seed,
        end=args.end,
        config=load_demo_config(),
        eval_dir=SHARED_DATA / "eval",
    )
    report = write_history(settings, request, progress=lambda m: print(m, flush=True))
    print(json.dumps(report.as_dict(), indent=2))


def series(url: str, min_per_day: float) -> tuple[date, dict[str, list[int]], dict | None]:
    engine = create_engine_for(url)
    try:
        with session_factory(engine)() as session:
            bounds = metrics.history_bounds(session)
            if bounds is None:
                raise SystemExit("no tickets in this database")
            start, end = bounds[0], bounds[1] + timedelta(days=1)
            rows = metrics.load_tickets(session, start, end)
            marker = read_marker(session)
    finally:
        engine.dispose()
    named = {"all": metrics.daily_counts(rows, start, end)["all"]}
    for key in ("category", "channel"):
        for name, values in sorted(metrics.daily_counts(rows, start, end, key).items()):
            if statistics.fmean(values) >= min_per_day:
                named[f"{key}:{name}"] = values
    return start, named, marker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--data-dir", type=Path, default=Path(".triage"))
    parser.add_argument("--build", type=int, metavar="DAYS", help="write a history first")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end", type=date.fromisoformat, default=datetime.now(UTC).date())
    parser.add_argument("--horizon", type=int, default=7)
    parser.add_argument("--origins", type=int, default=8)
    parser.add_argument("--min-per-day", type=float, default=0.5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.build:
        build(args)
    start, named, marker = series(args.database_url, args.min_per_day)
    clock = time.perf_counter()
    results = [
        backtest_series(name, values, start=start, horizon=args.horizon, origins=args.origins)
        for name, values in named.items()
    ]
    summary = BacktestSummary(results)
    document = {
        "history": {
            "start": start.isoformat(),
            "days": len(named["all"]),
            "tickets": sum(named["all"]),
            "demo": marker is not None,
        },
        "horizon": args.horizon,
        **summary.as_dict(),
        "seconds": round(time.perf_counter() - clock, 1),
    }
    if args.json:
        print(json.dumps(document, indent=2))
        return
    h = document["history"]
    print(
        f"history: {h['tickets']} tickets over {h['days']} days from {h['start']}"
        f"{' (demo data)' if h['demo'] else ''}; horizon {args.horizon} days, "
        f"up to {args.origins} rolling origins a week apart"
    )
    header = (
        f"{'series':32s} {'per day':>8s} {'MASE':>6s} {'naive':>6s} {'cover':>6s} {'naive':>6s}"
    )
    print(header)
    for row in document["series"]:
        print(
            f"{row['series']:32s} {row['mean_per_day']:8.1f} {row['mase']:6.2f} "
            f"{row['baseline_mase']:6.2f} {row['coverage'] * 100:5.0f}% "
            f"{row['baseline_coverage'] * 100:5.0f}%"
        )
    print(
        f"\nmean MASE {document['mean_mase']} (seasonal naive {document['mean_baseline_mase']});"
        f" ETS better on {document['series_beating_baseline']} of {len(results)} series"
    )
    print(
        f"80 % interval coverage, pooled: {document['coverage'] * 100:.1f} % "
        f"(seasonal naive {document['baseline_coverage'] * 100:.1f} %); "
        f"{document['seconds']} s"
    )


if __name__ == "__main__":
    main()
