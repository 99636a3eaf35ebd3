"""`triage ingest` and `triage search`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from app.answers.build import reverify_after_ingest
from app.cli.answers import print_reverified
from app.cli.output import CliError, print_json, stderr_console
from app.cli.progress import ingest_progress
from app.cli.settings_loader import load_settings
from app.knowledge import build_knowledge_base
from ingest.retrieval import Mode, SearchFilters
from ingest.screening import flag_row
from ingest.sync_report import SyncReport
from ingest.vectorstore import EmbeddingMismatchError

CollectionOpt = Annotated[
    str | None, typer.Option("--collection", help="Chroma collection (default: settings).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of documentation.")],
    collection: CollectionOpt = None,
    as_json: JsonOpt = False,
    no_manifest: Annotated[
        bool, typer.Option("--no-manifest", help="Ignore manifest.jsonl; ingest every file.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, max=64, help="Embedding processes (default: settings)."),
    ] = None,
    enqueue: Annotated[
        bool,
        typer.Option(
            "--enqueue",
            help="Only plan: record embedding jobs in the database for `triage ingest-worker`.",
        ),
    ] = False,
) -> None:
    """Sync the docs under PATH into the collection (add, update, prune)."""
    settings = load_settings(collection=collection, use_manifest=False if no_manifest else None)
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise CliError(f"no such file or directory: {', '.join(missing)}")
    if enqueue:
        from app.cli.ingest_jobs import enqueue_ingest

        enqueue_ingest(settings, paths, as_json)
        return
    console = stderr_console()
    try:
        kb = build_knowledge_base(settings)
        with ingest_progress(console, transient=as_json) as on_progress:
            report = kb.synchronizer(progress=on_progress, workers=workers).sync(paths)
        # Reusable answers whose quoted doc text is gone are retired for review.
        answers = reverify_after_ingest(settings, kb)
    except EmbeddingMismatchError as exc:
        raise CliError(str(exc)) from exc
    for failure in report.failures:
        console.print(f"[yellow]skipped[/] {failure['source']}: {failure['reason']}")
    if as_json:
        extra = {"reusable_answers": answers.as_dict()} if answers else {}
        print_json({**report.as_dict(), **extra})
    else:
        _print_summary(report)
        print_reverified(answers)


def _print_summary(report: SyncReport) -> None:
    r = report
    typer.echo(
        f"{r.docs_seen} docs seen: {r.docs_added} added, {r.docs_updated} updated, "
        f"{r.docs_unchanged} unchanged, {r.docs_deleted} deleted, {r.docs_failed} failed; "
        f"{r.chunks_written} chunks written, {r.chunks_deleted} deleted, "
        f"{r.embeddings_computed} embeddings in {r.seconds:.1f}s"
    )
    flagged = r.as_dict()["flagged"]
    if flagged:
        typer.echo(
            f"{len(flagged)} chunks flagged as untrusted (never quoted, never sent to a model):"
        )
        _print_flagged(flagged)


def _print_flagged(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        typer.echo(
            f"  {row['source']}:{row['line']}  {','.join(row['reasons'])}  {row['chunk_id']}"
        )


def search(
    query: Annotated[str, typer.Argument(help="What to look for.")] = "",
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Number of hits.")] = 5,
    collection: CollectionOpt = None,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="Only these document kinds.")
    ] = None,
    source_prefix: Annotated[
        str | None, typer.Option("--source-prefix", help="Only sources under this path.")
    ] = None,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, dense or lexical.")] = "hybrid",
    as_json: JsonOpt = False,
    flagged: Annotated[
        bool,
        typer.Option(
            "--flagged", help="List the chunks flagged as untrusted instead (no QUERY needed)."
        ),
    ] = False,
) -> None:
    """Hybrid retrieval over the knowledge base."""
    if flagged:
        _list_flagged(collection, as_json)
        return
    if mode not in ("hybrid", "dense", "lexical"):
        raise CliError(f"--mode must be hybrid, dense or lexical, not {mode!r}")
    if not query.strip():
        raise CliError("the query is empty")
    settings = load_settings(collection=collection)
    try:
        kb = build_knowledge_base(settings, refresh_seconds=0)
        if not kb.store.exists():
            raise CliError(
                f"collection {kb.store.name!r} does not exist yet: run `triage ingest PATH` first"
            )
        kb.store.count()  # opens the collection: a mismatched model fails before any embedding
        mode_value: Mode = mode  # type: ignore[assignment]
        hits = kb.retriever.search(
            query,
            k,
            filters=SearchFilters(kinds=tuple(kind or ()), source_prefix=source_prefix),
            mode=mode_value,
        )
    except EmbeddingMismatchError as exc:
        raise CliError(str(exc)) from exc
    if as_json:
        print_json([h.model_dump() for h in hits])
        return
    for rank, hit in enumerate(hits, 1):
        where = f" > {hit.heading}" if hit.heading else ""
        typer.echo(f"{rank}. [{hit.score:.4f}] {hit.doc_id}{where}")
        if hit.url:
            typer.echo(f"   {hit.url}")
        snippet = " ".join(hit.text.split())[:240]
        typer.echo(f"   {snippet}")


def _list_flagged(collection: str | None, as_json: bool) -> None:
    """Every stored chunk the passage screener distrusts, judged now (so chunks indexed
    before the screener existed are listed too), with the file and line ingest recorded."""
    settings = load_settings(collection=collection)
    try:
        kb = build_knowledge_base(settings, refresh_seconds=0)
        if not kb.store.exists():
            raise CliError(
                f"collection {kb.store.name!r} does not exist yet: run `triage ingest PATH` first"
            )
        screen = kb.retriever.hit_screen()
        rows = []
        for chunk in kb.retriever.lexical_index().chunks:
            reasons = screen.reasons(chunk)
            if reasons:
                rows.append({**flag_row(chunk.metadata, chunk.chunk_id), "reasons": list(reasons)})
    except EmbeddingMismatchError as exc:
        raise CliError(str(exc)) from exc
    rows.sort(key=lambda r: (r["source"], r["line"], r["chunk_id"]))
    if as_json:
        print_json(rows)
    else:
        typer.echo(f"{len(rows)} chunks flagged as untrusted")
        _print_flagged(rows)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("search")(search)
