"""`triage tokens create`: issue an API token (the secret is printed once)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.output import CliError, print_json, storage_lines
from app.cli.settings_loader import load_settings
from app.store.models import ROLES


def create(
    role: Annotated[str, typer.Option("--role", help="agent, admin or integration.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Who or what uses it (default: the role).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Issue a token; only its hash is stored, so copy it now."""
    from app.services.database import prepare_database
    from app.store import api_tokens

    if role not in ROLES:
        raise CliError(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
    if name is not None:
        try:
            api_tokens.check_name(name)
        except api_tokens.TokenNameError as exc:
            raise CliError(f"--name: {exc}") from exc
    settings = load_settings()
    try:
        engine, sessions = prepare_database(settings)
    except Exception as exc:
        raise CliError(f"cannot open the database: {exc}") from exc
    try:
        with sessions.begin() as session:
            # Names are unique: without --name the role is the name, numbered if taken.
            label = name if name is not None else api_tokens.unused_name(session, role)
            plaintext, token = api_tokens.create_token(
                session,
                role,  # narrowed to Role by the check above
                label,
                actor="cli",
            )
            token_id = token.id
    except api_tokens.TokenNameError as exc:
        raise CliError(f"--name: {exc}") from exc
    finally:
        engine.dispose()
    # The default data directory follows the working directory: say which one holds the
    # token, so one made elsewhere than where `triage serve` runs is visible (stderr only).
    for line in storage_lines(settings):
        typer.echo(line, err=True)
    document = {"token": plaintext, "role": role, "name": label, "id": token_id}
    if as_json:
        print_json(document)
        return
    typer.echo(plaintext)
    typer.echo(f"role {role}, name {label}, id {token_id}; shown once, store it now", err=True)


def register(app: typer.Typer) -> None:
    tokens_app = typer.Typer(help="API tokens for the review service.", no_args_is_help=True)
    tokens_app.command("create")(create)
    app.add_typer(tokens_app, name="tokens")
