"""`triage ingest PATH --enqueue` and `triage ingest-worker`: embedding spread over machines.

The planner needs the doc files; the workers need only the database and the Chroma
server (TRIAGE_DATABASE_URL, TRIAGE_CHROMA_URL), so run as many as you have cores anywhere.
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
        f"{report.jobs_failed} failed for a retry): {report.chunks_written} chunks written, "
        f"{report.embeddings_computed} embeddings, {len(report.runs_finished)} runs finished "
        f"in {report.seconds:.1f}s"
    )


def register(app: typer.Typer) -> None:
    app.command("ingest-worker")(ingest_worker)
