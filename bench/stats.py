"""GET /v1/stats latency over 100k synthetic tickets on PostgreSQL (goal: p95 <= 200 ms).

    .venv/bin/python bench/stats.py [--tickets 100000] [--days 365] [--requests 40]
        [--models-dir DIR] [--admin-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Creates a throwaway database on the local server, migrates it, fills it with a year of
synthetic history (bench/_stats_data.py: tickets, drafts, reviews, conversation events,
SLA states) with COPY, copies the metric views into their fact tables, starts the real
server (``uvicorn --factory app.api:create_app``, one process, background workers off),
then asks for stats one request at a time: every grouping over the default range (the
last 30 days), and day/week/category/agent over 7, 90 and 365 days.  Prints p50/p95/max per
scenario and one JSON line; then GET /v1/stats/forecast, the first call (which fits the
model) and the cached ones after it; drops the database at the end.  The client runs on the same
machine as the server and PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import _stats_data
import httpx
from _common import uvicorn_server
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.operations.metrics.refresh import rebuild
from app.services.database import prepare_database
from app.settings import Settings
from app.store import api_tokens, create_engine_for

GROUPS = ("day", "week", "category", "priority", "channel", "team", "agent")


@contextmanager
def throwaway_database(admin_url: str) -> Iterator[str]:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"triage_bench_stats_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fill(url: str, tickets: int, days: int) -> str:
    """Migrate, write the history, and return an agent token."""
    engine, sessions = prepare_database(Settings(database_url=url))
    with sessions.begin() as session:
        token, _ = api_tokens.create_token(session, "agent", "bench-agent")
    engine.dispose()
    started = time.perf_counter()
    rows = _stats_data.generate(tickets, days)
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    counts = _stats_data.copy_into(conninfo, rows)
    print(f"filled {counts} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    # A bulk import: copy the metric views into the fact tables in one pass (a server
    # would catch up in the background, 500 tickets per step).
    started = time.perf_counter()
    engine = create_engine_for(url)
    rebuild(engine)
    engine.dispose()
    print(f"metric facts rebuilt in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return token


@contextmanager
def server(url: str, workdir: Path, models_dir: Path | None) -> Iterator[str]:
    settings = {
        "TRIAGE_DATA_DIR": str(workdir / "data"),
        "TRIAGE_DATABASE_URL": url,
        "TRIAGE_RUN_WORKERS": "false",
        **({"TRIAGE_MODELS_DIR": str(models_dir)} if models_dir else {}),
    }
    with uvicorn_server(settings, workdir, start_timeout=900) as base:
        yield base


def scenarios() -> list[tuple[str, int, str]]:
    """(name, days, group): every grouping over 30 days, four over other spans."""
    rows = [(f"30d/{g}", 30, g) for g in GROUPS]
    rows += [
        (f"{d}d/{g}", d, g) for d in (7, 90, 365) for g in ("day", "week", "category", "agent")
    ]
    return rows


def measure(client: httpx.Client, days: int, group: str, requests: int) -> list[float]:
    now = time.time()
    params = {
        "from": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - days * 86400)),
        "to": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "group": group,
    }
    client.get("/v1/stats", params=params).raise_for_status()  # warm-up
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get("/v1/stats", params=params).raise_for_status()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def measure_forecast(client: httpx.Client, requests: int) -> tuple[float, list[float]]:
    """GET /v1/stats/forecast: the first call fits the model (per process, per day of
    history); the rest are answered from the fit cache."""
    started = time.perf_counter()
    client.get("/v1/stats/forecast").raise_for_status()
    cold = (time.perf_counter() - started) * 1000
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get("/v1/stats/forecast").raise_for_status()
        timings.append((time.perf_counter() - started) * 1000)
    return cold, timings


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--requests", type=int, default=40, help="per scenario")
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument(
        "--only", default="", help="comma-separated scenario names (e.g. 30d/day,forecast)"
    )
    parser.add_argument(
        "--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-stats-") as tmp,
        throwaway_database(args.admin_url) as url,
    ):
        token = fill(url, args.tickets, args.days)
        with (
            server(url, Path(tmp), args.models_dir) as base,
            httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
            ) as client,
        ):
            chosen = set(filter(None, args.only.split(",")))
            for name, days, group in scenarios():
                if chosen and name not in chosen:
                    continue
                timings = measure(client, days, group, args.requests)
                results.append(
                    {
                        "scenario": name,
                        "p50_ms": round(statistics.median(timings), 1),
                        "p95_ms": round(p95(timings), 1),
                        "max_ms": round(max(timings), 1),
                    }
                )
                print(json.dumps(results[-1]), file=sys.stderr)
            if not chosen or "forecast" in chosen:
                cold, timings = measure_forecast(client, args.requests)
                results.append(
                    {
                        "scenario": "forecast",
                        "cold_ms": round(cold, 1),
                        "p50_ms": round(statistics.median(timings), 1),
                        "p95_ms": round(p95(timings), 1),
                        "max_ms": round(max(timings), 1),
                    }
                )
                print(json.dumps(results[-1]), file=sys.stderr)
    default = [r for r in results if r["scenario"].startswith("30d/")]
    print(f"{'scenario':<14}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for r in results:
        print(f"{r['scenario']:<14}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['max_ms']:>9.1f}")
    if default:
        worst_default = max(r["p95_ms"] for r in default)
        print(f"worst p95 over the default 30-day range: {worst_default:.1f} ms (goal 200 ms)")
    print(json.dumps({"bench": "stats", "tickets": args.tickets, "days": args.days,
                      "requests_per_scenario": args.requests, "results": results}))  # fmt: skip


if __name__ == "__main__":
    main()
