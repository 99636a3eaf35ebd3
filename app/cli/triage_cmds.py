"""`triage ask`: full triage of one message, nothing stored."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.output import CliError, print_json
from app.cli.settings_loader import load_settings


def ask(
    message: Annotated[str, typer.Argument(help="The developer's message.")],
    collection: Annotated[str | None, typer.Option("--collection")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Screen, classify, retrieve and draft a reply for one message (nothing is stored)."""
    from app.knowledge import build_knowledge_base
    from app.services.pipelines import build_pipeline
    from ingest.vectorstore import EmbeddingMismatchError

    if not message.strip():
        raise CliError("the message is empty")
    settings = load_settings(collection=collection)
    if len(message) > settings.max_message_chars:
        raise CliError(
            f"the message is {len(message):,} characters; the limit is "
            f"{settings.max_message_chars:,} (TRIAGE_MAX_MESSAGE_CHARS)"
        )
    try:
        kb = build_knowledge_base(settings, refresh_seconds=0)
        if not kb.store.exists():
            raise CliError(
                f"collection {kb.store.name!r} does not exist yet: run `triage ingest PATH` first"
            )
        kb.store.count()  # opens the collection: a mismatched model fails before any embedding
        result = build_pipeline(settings, kb).run(message)
    except EmbeddingMismatchError as exc:
        raise CliError(str(exc)) from exc
    if as_json:
        print_json(result.public())
        return
    t = result.triage
    typer.echo(
        f"category {t.category} ({t.confidence:.2f})  priority {t.priority}  team {t.team}  "
        f"language {t.language}  sentiment {t.sentiment}  flags {', '.join(t.flags) or '-'}"
    )
    for redaction in result.redactions:
        typer.echo(f"redacted {redaction.kind} as {redaction.placeholder}")
    draft = result.draft
    state = f"needs a human ({draft.reason})" if draft.needs_human else "ready for review"
    typer.echo(f"\ndraft, {state}, confidence {draft.confidence:.2f}:\n")
    typer.echo(draft.text)


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)
