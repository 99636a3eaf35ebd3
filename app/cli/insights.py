"""`triage gaps` and `triage calibration`: what support leads read to plan docs and trust."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from app.cli.output import CliError, print_json, stderr_console
from app.cli.settings_loader import load_settings


def parse_since(value: str | None) -> datetime | None:
    """An ISO date or date-time; UTC when it has no offset."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CliError(f"--since: {value!r} is not an ISO date (YYYY-MM-DD) or date-time") from exc
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if parsed >= datetime.now(UTC):
        raise CliError("--since must be in the past")
    return parsed


SinceOption = Annotated[
    str | None,
    typer.Option("--since", help="Start of the period (default: TRIAGE_GAPS_PERIOD_DAYS ago)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def gaps(
    since: SinceOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Topics shown.")] = 20,
    collection: Annotated[str | None, typer.Option("--collection")] = None,
    as_json: JsonOption = False,
) -> None:
    """Questions the docs did not answer, clustered by topic and ranked."""
    from app.knowledge import build_knowledge_base
    from app.operations.gaps.report import GapReporter
    from app.services.database import prepare_database
    from ingest.vectorstore import EmbeddingMismatchError

    start = parse_since(since)
    settings = load_settings(collection=collection)
    try:
        engine, sessions = prepare_database(settings)
    except Exception as exc:
        raise CliError(f"cannot open the database: {exc}") from exc
    try:
        kb = build_knowledge_base(settings, refresh_seconds=0)
        if not kb.store.exists():
            typer.echo(
                f"warning: collection {kb.store.name!r} does not exist: no nearest docs, "
                "every topic counts as a docs gap",
                err=True,
            )
        report = GapReporter(settings, kb, sessions).report(start)
    except EmbeddingMismatchError as exc:
        raise CliError(str(exc)) from exc
    finally:
        engine.dispose()
    shown = report.gaps[:limit]
    if as_json:
        print_json([gap.model_dump(mode="json") for gap in shown])
        return
    console = stderr_console()
    console.print(
        f"{report.questions} gap signals from {report.since:%Y-%m-%d} to {report.until:%Y-%m-%d}"
        f" (trend against {report.previous_since:%Y-%m-%d} onwards)"
    )
    for rank, gap in enumerate(shown, start=1):
        trend = f"{gap.trend.direction} from {gap.trend.previous}"
        typer.echo(f"\n{rank}. {gap.topic}  [{gap.kind}]  {gap.count} questions, {trend}")
        for example in gap.examples:
            typer.echo(f"   - {example}")
        for doc in gap.nearest_docs:
            where = doc.url or doc.source
            typer.echo(f"   nearest: {doc.title} › {doc.heading} ({doc.similarity:.2f}) {where}")
        typer.echo(f"   tickets: {', '.join(gap.ticket_ids) or '-'}")


def calibration(
    since: SinceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Draft confidence against review outcome per category, and earned auto-send."""
    from app.operations.autosend.gate import build_auto_send
    from app.services.database import prepare_database
    from app.services.insights import calibration_report

    start = parse_since(since)
    settings = load_settings()
    try:
        gate = build_auto_send(settings)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    try:
        engine, sessions = prepare_database(settings)
    except Exception as exc:
        raise CliError(f"cannot open the database: {exc}") from exc
    try:
        with sessions() as session:
            report = calibration_report(session, gate, start)
    finally:
        engine.dispose()
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    for table in report.reliability:
        ece = "-" if table.ece is None else f"{table.ece:.3f}"
        unedited = table.approved_unedited
        typer.echo(f"{table.category}: {table.n} verdicts, {unedited} unedited, ECE {ece}")
        for row in table.bins:
            typer.echo(
                f"   {row['low']:.1f}-{row['high']:.1f}: n={row['n']:<4} confidence "
                f"{row['confidence']:.2f}  approved unedited {row['observed']:.2f}"
            )
    for status in report.autosend.categories:
        figures = status.figures
        measured = (
            f"{figures.approved_unedited}/{figures.reviewed} unedited, target "
            f"{figures.target_precision:.2f} over {figures.min_reviews}"
            if figures is not None
            else "not governed"
        )
        typer.echo(f"auto-send {status.category}: {status.mode} ({measured})")


def register(app: typer.Typer) -> None:
    app.command("gaps")(gaps)
    app.command("calibration")(calibration)
