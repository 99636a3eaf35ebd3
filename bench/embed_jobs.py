"""Ingest through embedding jobs: chunks/s with 1 and 2 `triage ingest-worker` processes.

Real Grid pages (the first --pages of docs/guides, real MiniLM embeddings, float ONNX), one
`chroma run` server on loopback and one database (SQLite, or a throwaway PostgreSQL
database with --postgres).  For each worker count a fresh collection is planned with
`enqueue` (timed apart), then the workers are started together (one ONNX thread each) and
timed from their start to the last one's exit, model loading included.  The reference row
is today's in-process sync (`Synchronizer`, one process, the runtime's default threads).
Chunks per CPU-second of the workers (their user + system time, model loading included)
is also printed: on a machine other jobs keep busy, wall-clock chunks/s says nothing about
scaling, but a per-CPU-second rate that holds with two workers says they do not get in
each other's way (claims, Chroma writes), so wall time scales with the idle cores there are.

    python bench/embed_jobs.py --pages 80 [--postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import GRID, REPO, print_table

from app.knowledge import build_knowledge_base
from app.services.database import prepare_database
from app.services.embed_jobs import enqueue
from app.settings import Settings
from tests.chroma_server import chroma_server_at
from tests.postgres import PostgresDatabases


def copy_pages(dest: Path, pages: int) -> Path:
    for src in sorted((GRID / "docs" / "guides").rglob("*.md"))[:pages]:
        target = dest / src.relative_to(GRID)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return dest


def worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(
        TRIAGE_DATABASE_URL=str(settings.database_url),
        TRIAGE_CHROMA_URL=str(settings.chroma_url),
        TRIAGE_MODELS_DIR=str(settings.models_dir),
        TRIAGE_DATA_DIR=str(settings.data_dir),
        TRIAGE_EMBEDDING_THREADS="1",
        TRIAGE_WORKER_POLL_SECONDS="0.2",
        PYTHONPATH=str(REPO),
    )
    return env


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_workers(settings: Settings, count: int) -> tuple[float, float, list[dict[str, object]]]:
    """Wall seconds, the workers' CPU seconds and their reports."""
    args = [sys.executable, "-c", "from app.cli import main; main()", "ingest-worker"]
    cpu = children_cpu_seconds()  # the chroma server is a child too, but not yet reaped
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [*args, "--until-idle", "--json"],
            env=worker_env(settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(count)
    ]
    reports = [json.loads(p.communicate()[0]) for p in procs]
    return time.perf_counter() - started, children_cpu_seconds() - cpu, reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=80)
    parser.add_argument("--postgres", action="store_true", help="a throwaway local database")
    parser.add_argument("--job-chunks", type=int, default=128)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-embed-jobs-"))
    databases = PostgresDatabases() if args.postgres else None
    database_url = databases.create() if databases else f"sqlite:///{tmp / 'triage.db'}"
    corpus = copy_pages(tmp / "corpus", args.pages)
    rows: list[tuple[str, str]] = []
    try:
        with chroma_server_at(tmp / "chroma") as chroma:
            base = Settings(
                chroma_url=chroma,
                database_url=database_url,
                models_dir=tmp / "models",
                data_dir=tmp / "data",
                ingest_job_chunks=args.job_chunks,
            )
            engine, sessions = prepare_database(base)
            plain = build_knowledge_base(base, collection="plain", refresh_seconds=0)
            own = resource.getrusage(resource.RUSAGE_SELF)
            report = plain.synchronizer().sync([corpus])
            after = resource.getrusage(resource.RUSAGE_SELF)
            cpu = after.ru_utime + after.ru_stime - own.ru_utime - own.ru_stime
            chunks = report.chunks_written
            rows.append(
                (
                    f"in-process sync (today), {chunks} chunks: chunks/s",
                    f"{chunks / report.seconds:.1f}",
                )
            )
            rows.append((f"  the same per CPU-second ({cpu:.0f} s)", f"{chunks / cpu:.1f}"))
            for count in (1, 2):
                settings = base.model_copy(update={"collection": f"jobs-{count}"})
                kb = build_knowledge_base(settings, refresh_seconds=0)
                started = time.perf_counter()
                planned = enqueue(kb, sessions, [corpus])
                planning = time.perf_counter() - started
                wall, cpu, reports = run_workers(settings, count)
                done = sum(int(str(r["chunks_written"])) for r in reports)
                assert done == planned["chunks"] == kb.store.count(), (done, planned)
                rows.append(
                    (f"plan {planned['jobs']} jobs (--enqueue): seconds", f"{planning:.1f}")
                )
                per_worker = ", ".join(str(r["jobs_done"]) for r in reports)
                rows.append(
                    (
                        f"{count} ingest-worker process(es), jobs done {per_worker}: chunks/s",
                        f"{done / wall:.1f}",
                    )
                )
                rows.append(
                    (f"  the same per worker CPU-second ({cpu:.0f} s)", f"{done / cpu:.1f}")
                )
            engine.dispose()
    finally:
        if databases:
            databases.drop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    db = "PostgreSQL" if args.postgres else "SQLite"
    print_table(
        f"bench/embed_jobs.py ({db}, {args.pages} Grid pages, {os.cpu_count()} cores)", rows
    )


if __name__ == "__main__":
    main()
