"""`triage sql NAME [--param K=V]... [--format table|csv|json]`: run a saved investigation.

The templates are the ``.sql`` files under ``queries/``
(app/operations/investigations/queries.py); each runs read-only on the configured database
(app/operations/investigations/sql_runner.py).  ``--list`` shows them with their parameters.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from app.cli.output import CliError, print_json
from app.cli.settings_loader import load_settings

Format = Literal["table", "csv", "json"]
FORMATS: tuple[Format, ...] = ("table", "csv", "json")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return " ".join(str(value).split())  # one line per row, whatever the text holds


def render_table(columns: list[str], rows: list[list[Any]]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
        *("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells),
    ]
    return "\n".join(lines) + "\n"


def render_csv(columns: list[str], rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return buffer.getvalue()


def _list(directory: Path, fmt: Format) -> None:
    from app.operations.investigations.queries import catalogue

    templates = list(catalogue(directory).values())
    if fmt == "json":
        print_json(
            [
                {
                    "name": t.name,
                    "description": t.description,
                    "params": [
                        {
                            "name": p.name,
                            "type": p.type,
                            "required": p.required,
                            "default": p.default,
                            "description": p.description,
                        }
                        for p in t.params
                    ],
                }
                for t in templates
            ]
        )
        return
    for t in templates:
        signature = " ".join(
            f"{p.name}=<{p.type}>" if p.required else f"[{p.name}={p.default}]" for p in t.params
        )
        typer.echo(f"{t.name} {signature}".rstrip())
        typer.echo(f"    {t.description}")


def sql(
    name: Annotated[str | None, typer.Argument(help="The query's name (see --list).")] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="NAME=VALUE, once per parameter.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    list_: Annotated[bool, typer.Option("--list", help="List the queries.")] = False,
    queries: Annotated[
        Path | None, typer.Option("--queries", help="Query directory (default: queries/).")
    ] = None,
) -> None:
    """Run a named, read-only SQL investigation from queries/ on the store."""
    from app.operations.investigations.queries import (
        DEFAULT_QUERIES_DIR,
        TemplateError,
        bind,
        find,
        parse_assignments,
    )

    if fmt not in FORMATS:
        raise CliError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    chosen: Format = "json" if as_json else fmt
    directory = queries or DEFAULT_QUERIES_DIR
    try:
        if list_:
            _list(directory, chosen)
            return
        if name is None:
            raise CliError("name a query (see `triage sql --list`)")
        template = find(name, directory)
        given = parse_assignments(param or [])
        bind(template, given)  # refuse bad parameters before opening the database
        result = _run(template, given)
    except TemplateError as exc:
        raise CliError(str(exc)) from None
    if chosen == "json":
        print_json(result.records())
    elif chosen == "csv":
        sys.stdout.write(render_csv(result.columns, result.rows))
    else:
        sys.stdout.write(render_table(result.columns, result.rows))
        typer.echo(f"({len(result.rows)} rows)", err=True)


def _run(template: Any, given: dict[str, str]) -> Any:
    from sqlalchemy.exc import SQLAlchemyError

    from app.operations.investigations.sql_runner import run_template
    from app.services.database import prepare_database

    settings = load_settings()
    try:
        engine, _ = prepare_database(settings)
    except Exception as exc:
        raise CliError(f"cannot open the database: {exc}") from exc
    try:
        return run_template(engine, template, given)
    except SQLAlchemyError as exc:
        detail = " ".join(str(getattr(exc, "orig", exc)).split())
        raise CliError(f"query {template.name!r} failed: {detail}") from None
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    app.command("sql")(sql)
