"""`triage answers review`: reusable answers retired because their docs changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.output import CliError, print_json
from app.cli.settings_loader import load_settings
from ingest.vectorstore import EmbeddingMismatchError

if TYPE_CHECKING:
    from app.answers.service import ReverifyReport

answers_app = typer.Typer(
    help="Answers learnt from agents' approvals, reused for paraphrased questions.",
    no_args_is_help=True,
)


@answers_app.command("review")
def review(
    collection: Annotated[
        str | None, typer.Option("--collection", help="Chroma collection (default: settings).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """List retired reusable answers with the reason (quoted doc text gone, doc removed)."""
    from app.answers.build import build_reusable_answers
    from app.knowledge import build_knowledge_base
    from app.services.database import prepare_database

    settings = load_settings(collection=collection)
    try:
        kb = build_knowledge_base(settings, refresh_seconds=0)
        engine, sessions = prepare_database(settings)
        try:
            retired = build_reusable_answers(settings, kb, sessions).list_retired()
        finally:
            engine.dispose()
    except EmbeddingMismatchError as exc:
        raise CliError(str(exc)) from exc
    if as_json:
        print_json([r.as_dict() for r in retired])
        return
    typer.echo(f"{len(retired)} reusable answers retired, to review:")
    for r in retired:
        when = r.retired_at.isoformat(timespec="seconds") if r.retired_at else "?"
        question = " ".join(r.question.split())[:100]
        typer.echo(f"  {r.id}  {when}  {r.reason}")
        typer.echo(f"    question: {question}")
        if r.source_ticket_id:
            typer.echo(f"    from ticket {r.source_ticket_id} (draft {r.source_draft_id})")


def register(app: typer.Typer) -> None:
    app.add_typer(answers_app, name="answers")


def print_reverified(report: ReverifyReport | None) -> None:
    """The line `triage ingest` adds when reusable answers were re-checked."""
    if report is None:
        return
    typer.echo(
        f"reusable answers: {report.checked} checked, {report.updated} re-pointed at the new "
        f"doc revisions, {len(report.retired)} retired (`triage answers review`)"
    )
    for r in report.retired:
        typer.echo(f"  retired {r.id}: {r.reason}")
