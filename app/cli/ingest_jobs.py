"""`triage ingest PATH --enqueue`, `triage ingest-worker` and `triage ingest-status`:
embedding spread over machines.

The planner needs the doc files; the workers need only the database and the Chroma
server (TRIAGE_DATABASE_URL, TRIAGE_CHROMA_URL), so run as many as you have cores anywhere.
A worker runs until stopped, so its own report is seldom read: `ingest-status` shows the
recent runs from the database, with every job given up on and the documents it carried.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.output import CliError, print_json, stderr_console
from app.cli.progress import ingest_progress
from app.cli.settings_loader import load_settings
from app.settings import Settings
from ingest.vectorstore import EmbeddingMismatchError


def _sessions(settings: Settings) -> Any:
    from app.services.database import prepare_database

    try:
        return prepare_database(settings)
    except Exception as exc:
        raise CliError(f"cannot open the database: {exc}") from exc


def enqueue_ingest(settings: Settings, paths: list[Path], as_json: bool) -> None:
    """The `--enqueue` branch of `triage ingest`: plan the sync into jobs and return."""
    from app.knowledge import build_knowledge_base
    from app.services.embed_jobs import enqueue
    from app.store.embed_jobs import RunInProgressError

    engine, sessions = _sessions(settings)
    console = stderr_console()
    try:
        kb = build_knowledge_base(settings)
        with ingest_progress(console, transient=as_json) as on_progress:
            summary = enqueue(kb, sessions, paths, progress=on_progress)
    except (EmbeddingMismatchError, RunInProgressError) as exc:
        raise CliError(str(exc)) from exc
    finally:
        engine.dispose()
    for failure in summary["report"]["failures"]:
        console.print(f"[yellow]skipped[/] {failure['source']}: {failure['reason']}")
    if as_json:
        print_json(summary)
        return
    r = summary["report"]
    typer.echo(
        f"run {summary['run']}: {summary['jobs']} embedding jobs, {summary['chunks']} chunks "
        f"queued ({r['docs_added']} docs added, {r['docs_updated']} updated, "
        f"{r['docs_deleted']} deleted, {r['docs_unchanged']} unchanged); "
        "start `triage ingest-worker` on any machine to embed them"
    )


def ingest_worker(
    until_idle: Annotated[
        bool,
        typer.Option("--until-idle", help="Exit once no enqueued run has work left."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Claim embedding jobs from the database and write them into Chroma, until SIGTERM."""
    from app.answers.build import reverify_after_ingest
    from app.cli.answers import print_reverified
    from app.knowledge import KnowledgeBase, build_knowledge_base
    from app.services.embed_jobs import EmbedWorker
    from app.services.workers import new_worker_id

    settings = load_settings()
    engine, sessions = _sessions(settings)
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())

    def after_run(kb: KnowledgeBase) -> None:
        # Reusable answers whose quoted doc text is gone are retired for review.
        answers = reverify_after_ingest(
            settings.model_copy(update={"collection": kb.store.name}), kb
        )
        if not as_json:
            print_reverified(answers)

    worker = EmbedWorker(
        settings,
        sessions,
        new_worker_id(),
        lambda collection: build_knowledge_base(settings, collection=collection),
        on_run_finished=after_run,
    )
    try:
        worker.run(
            until_idle=until_idle, poll_seconds=settings.worker_poll_seconds, stop=done.is_set
        )
    except EmbeddingMismatchError as exc:
        raise CliError(str(exc)) from exc
    finally:
        engine.dispose()
    report = worker.report
    if as_json:
        print_json(report.as_dict())
        return
    typer.echo(
        f"{report.jobs_done} jobs done ({report.jobs_lost} lost to another worker, "
        f"{report.jobs_failed} failed for a retry, {len(report.jobs_given_up)} failed for "
        f"good): {report.chunks_written} chunks written, {report.embeddings_computed} "
        f"embeddings, {len(report.runs_finished)} runs finished in {report.seconds:.1f}s"
    )
    if report.jobs_given_up:
        typer.echo("see `triage ingest-status` for the failed jobs and their documents")


def ingest_status(
    runs: Annotated[int, typer.Option("--runs", min=1, help="How many recent runs.")] = 5,
    collection: Annotated[
        str | None, typer.Option("--collection", help="Only this collection's runs.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The recent embedding runs: their jobs by status, and the jobs that failed for good."""
    from app.store.embed_runs import recent_runs

    settings = load_settings()
    engine, sessions = _sessions(settings)
    try:
        with sessions() as session:
            summaries = recent_runs(session, limit=runs, collection=collection)
    finally:
        engine.dispose()
    if as_json:
        print_json({"runs": summaries})
        return
    if not summaries:
        typer.echo("no embedding runs")
    for run in summaries:
        typer.echo(
            f"run {run['run']} ({run['collection']}, {run['created_at'][:19]}): {run['status']}; "
            f"{run['jobs_done']} of {run['jobs']} embedding jobs done, "
            f"{run['jobs_failed']} failed, {run['chunks']} chunks"
        )
        for job in run["failed"]:
            docs = ", ".join(job["docs"][:5]) + (" …" if len(job["docs"]) > 5 else "")
            what = f"documents {docs}" if docs else "the run's finishing step"
            typer.echo(f"  failed {job['job']} after {job['attempts']} attempts: {job['reason']}")
            typer.echo(f"    {what}")


def register(app: typer.Typer) -> None:
    app.command("ingest-worker")(ingest_worker)
    app.command("ingest-status")(ingest_status)
