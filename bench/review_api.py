"""Review API throughput and latency on a real uvicorn server (SQLite, then PostgreSQL).

    .venv/bin/python bench/review_api.py [--tickets 2000] [--requests 2000] [--threads 4]
        [--approvals 300] [--backends sqlite,postgresql] [--models-dir DIR]
        [--server-workers N]

For each backend: start ``uvicorn --factory app.api:create_app`` in its deployment
shape (SQLite: one process; PostgreSQL: one process per core, as the README's
scale-out section runs it; ``--server-workers`` overrides both), background workers
on, INFO access logs to a file, as in production), seed
tickets with pending drafts straight through the store, then measure

* queue listing: ``GET /v1/review/queue?limit=20``, half of the requests following
  ``next_cursor`` to deeper pages.  Load comes from ``wrk`` (Debian package ``wrk``; a C
  load generator, so the client takes little of the CPU the server needs) with
  ``--connections`` open connections for ``--duration`` seconds; without wrk, or with
  ``--client httpx``, from Python client threads instead;
* approvals: ``POST /v1/drafts/{id}/approve`` with an Idempotency-Key, one per draft.

Prints a table and one JSON line.  The client threads run on the same machine as the
server, so on a small box they compete with it for CPU: the numbers are a floor.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from _common import uvicorn_server
from sqlalchemy import create_engine, text

from app.services.database import prepare_database
from app.settings import Settings
from app.store import api_tokens, tickets

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PRIORITIES = ("P1", "P2", "P3", "P4")
CATEGORIES = ("auth_api_access", "payouts", "webhooks", "sandbox", "quotes")


@dataclass
class Result:
    backend: str
    scenario: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    server_workers: int = 1


@contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"triage_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def server(url: str, workdir: Path, args: argparse.Namespace, workers: int) -> Iterator[str]:
    settings = {
        "TRIAGE_DATA_DIR": str(workdir / "data"),
        "TRIAGE_DATABASE_URL": url,
        "TRIAGE_DB_POOL_SIZE": "20",
        "TRIAGE_DB_POOL_PRE_PING": "false" if args.no_pre_ping else "true",
        **({"TRIAGE_REQUEST_THREADS": str(args.request_threads)} if args.request_threads else {}),
        **({"TRIAGE_MODELS_DIR": str(args.models_dir)} if args.models_dir is not None else {}),
    }
    with uvicorn_server(settings, workdir, workers=workers) as base:
        yield base


def seed(url: str, count: int) -> tuple[str, list[str]]:
    """An agent token and ``count`` tickets with one pending draft each (store, one tx)."""
    engine, factory = prepare_database(Settings(database_url=url))
    drafts = []
    with factory.begin() as session:
        token, _ = api_tokens.create_token(session, "agent", "bench")
        for i in range(count):
            ticket = tickets.create_ticket(
                session,
                channel="api",
                reporter=f"dev{i}@example.com",
                message=f"Question {i}: how do I rotate my sandbox client secret?",
                triage={
                    "category": CATEGORIES[i % len(CATEGORIES)],
                    "confidence": 0.8,
                    "priority": PRIORITIES[i % len(PRIORITIES)],
                    "team": "integrations",
                    "language": "en",
                    "sentiment": "neutral",
                    "flags": [],
                },
                signals={"http_statuses": [401]},
            )
            draft = tickets.add_draft(
                session,
                ticket.id,
                text="Create a new secret under Settings > API keys, then update your client.",
                citations=[
                    {
                        "chunk_id": f"c{i}",
                        "doc_id": "docs/guides/api-reference/authentication",
                        "source": "docs/guides/api-reference/authentication.md",
                        "url": "https://docs.lightspark.com/grid/authentication",
                        "quote": "Rotate credentials regularly.",
                    }
                ],
                confidence=0.8,
                needs_human=False,
                provenance={"drafter": "offline"},
            )
            drafts.append(draft.id)
    # A bulk load leaves the planner without statistics until autovacuum's next pass
    # (up to a minute): PostgreSQL then guesses a handful of pending tickets, sorts all
    # 2,000 for every page (4 ms instead of 0.3 ms) and the run measures that transient.
    # ANALYZE after a bulk load is what PostgreSQL's docs prescribe; SQLite too.
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    engine.dispose()
    return token, drafts


def measure(
    backend: str,
    scenario: str,
    jobs: list[Callable[[httpx.Client], httpx.Response]],
    base: str,
    headers: dict[str, str],
    threads: int,
    ok: set[int],
) -> Result:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    local = threading.local()

    def run(job: Callable[[httpx.Client], httpx.Response]) -> None:
        nonlocal errors
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=base, headers=headers, timeout=30)
        started = time.perf_counter()
        response = job(client)
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            errors += response.status_code not in ok

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, jobs))
    seconds = time.perf_counter() - started
    ordered = sorted(latencies)
    return Result(
        backend=backend,
        scenario=scenario,
        requests=len(jobs),
        errors=errors,
        seconds=round(seconds, 3),
        rps=round(len(jobs) / seconds, 1),
        p50_ms=round(statistics.median(ordered) * 1000, 2),
        p99_ms=round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
        max_ms=round(ordered[-1] * 1000, 2),
    )


def deeper_cursors(base: str, headers: dict[str, str], pages: int = 10) -> list[str]:
    """Cursors of the next few queue pages, so half the requests use keyset pagination."""
    cursors: list[str] = []
    with httpx.Client(base_url=base, headers=headers) as client:
        cursor = None
        for _ in range(pages):
            params = {"limit": "20", **({"cursor": cursor} if cursor else {})}
            cursor = client.get("/v1/review/queue", params=params).json()["next_cursor"]
            if cursor is None:
                break
            cursors.append(cursor)
    return cursors


_WRK_SCRIPT = """
paths = {%s}
headers = {["Authorization"] = "%s"}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1], headers)
end
"""
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _wrk_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)([a-z]+)", value.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNIT_MS[unit]


def queue_paths(base: str, headers: dict[str, str]) -> list[str]:
    """The listing paths the load cycles through: the first page and cursors deeper in."""
    first = "/v1/review/queue?limit=20"
    paths = [first]
    for cursor in deeper_cursors(base, headers):
        # First page and deeper pages alternate, whichever client sends them.
        paths += [f"{first}&cursor={cursor}", first]
    return paths


def queue_jobs(base: str, headers: dict[str, str], n: int) -> list[Any]:
    paths = queue_paths(base, headers)

    def job(i: int) -> Callable[[httpx.Client], httpx.Response]:
        path = paths[i % len(paths)]
        return lambda client: client.get(path)

    return [job(i) for i in range(n)]


def measure_wrk(
    backend: str, base: str, headers: dict[str, str], args: argparse.Namespace, workdir: Path
) -> Result:
    paths = queue_paths(base, headers)
    script = workdir / "queue.lua"
    quoted = ", ".join(f'"{p}"' for p in paths)
    script.write_text(_WRK_SCRIPT % (quoted, headers["Authorization"]))

    def wrk(seconds: int) -> str:
        command = ["wrk", "-t", "1", "-c", str(args.connections), "-d", f"{seconds}s",
                   "--latency", "-s", str(script), base]  # fmt: skip
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout

    wrk(3)  # warm-up
    out = wrk(args.duration)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    seconds = float(args.duration)
    errors_match = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    errors = int(errors_match.group(1)) if errors_match else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    max_ms = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    return Result(
        backend=backend,
        scenario="queue",
        requests=total,
        errors=errors,
        seconds=seconds,
        rps=round(float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)), 1),  # type: ignore[union-attr]
        p50_ms=round(_wrk_ms(percentiles["50"]), 2),
        p99_ms=round(_wrk_ms(percentiles["99"]), 2),
        max_ms=round(_wrk_ms(max_ms), 2),
    )


def approve_jobs(drafts: list[str]) -> list[Any]:
    def job(draft_id: str) -> Callable[[httpx.Client], httpx.Response]:
        key = {"Idempotency-Key": uuid.uuid4().hex}
        return lambda client: client.post(f"/v1/drafts/{draft_id}/approve", json={}, headers=key)

    return [job(d) for d in drafts]


def server_workers(backend: str, args: argparse.Namespace) -> int:
    if args.server_workers is not None:
        return int(args.server_workers)
    # SQLite is the single-process deployment; PostgreSQL is the multi-process one.
    return 1 if backend == "sqlite" else os.cpu_count() or 1


def bench_backend(backend: str, args: argparse.Namespace) -> list[Result]:
    workers = server_workers(backend, args)
    with tempfile.TemporaryDirectory(prefix=f"bench-{backend}-") as tmp:
        workdir = Path(tmp)
        with (
            database(backend, workdir) as url,
            server(url, workdir, args, workers) as base,
        ):
            started = time.perf_counter()
            token, drafts = seed(url, args.tickets)
            print(f"[{backend}] seeded {args.tickets} tickets in "
                  f"{time.perf_counter() - started:.1f}s", file=sys.stderr)  # fmt: skip
            headers = {"Authorization": f"Bearer {token}"}
            if args.client == "wrk":
                queue = measure_wrk(backend, base, headers, args, workdir)
            else:
                jobs = queue_jobs(base, headers, args.requests)
                measure(backend, "warm-up", jobs[:100], base, headers, args.threads, {200})
                queue = measure(backend, "queue", jobs, base, headers, args.threads, {200})
            approvals = approve_jobs(drafts[: args.approvals])
            approve = measure(backend, "approve", approvals, base, headers, args.threads, {200})
            return [replace(r, server_workers=workers) for r in (queue, approve)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--approvals", type=int, default=300)
    parser.add_argument(
        "--client",
        choices=["wrk", "httpx"],
        default="wrk" if shutil.which("wrk") else "httpx",
        help="queue-listing load generator (default wrk when installed)",
    )
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument(
        "--request-threads",
        type=int,
        default=None,
        help="TRIAGE_REQUEST_THREADS of the server (default: the server's own)",
    )
    parser.add_argument("--duration", type=int, default=15, help="wrk seconds")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument(
        "--server-workers",
        type=int,
        default=None,
        help="uvicorn worker processes (default: 1 on SQLite, one per core on PostgreSQL)",
    )
    parser.add_argument(
        "--no-pre-ping",
        action="store_true",
        help="TRIAGE_DB_POOL_PRE_PING=false (saves a round trip per request on PostgreSQL)",
    )
    args = parser.parse_args()
    results: list[Result] = []
    for backend in args.backends.split(","):
        results += bench_backend(backend.strip(), args)
    header = f"{'backend':<11}{'procs':>5} {'scenario':<9}{'reqs':>6}{'err':>5}{'req/s':>9}"
    header += f"{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    print(header)
    for r in results:
        print(
            f"{r.backend:<11}{r.server_workers:>5} {r.scenario:<9}{r.requests:>6}{r.errors:>5}"
            f"{r.rps:>9.1f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.max_ms:>9.2f}"
        )
    print(json.dumps({"bench": "review_api", "client": args.client, "threads": args.threads,
                      "connections": args.connections,
                      "pre_ping": not args.no_pre_ping,
                      "results": [asdict(r) for r in results]}))  # fmt: skip


if __name__ == "__main__":
    main()
