"""The `triage` console script.

Every command that prints results takes `--json` and then prints exactly one JSON
document on stdout; progress and logs go to stderr.  Failures exit non-zero with
a one-line reason on stderr.
"""

from __future__ import annotations

import sys

import typer

from app.cli.common import CliError
from app.cli.kb import register as register_kb
from app.cli.triage_cmds import register as register_triage

app = typer.Typer(
    name="triage",
    help="Support triage for developer-facing APIs: knowledge base, triage, drafts, review.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
register_kb(app)
register_triage(app)


def main() -> None:
    try:
        app(standalone_mode=False)
    except CliError as exc:
        print(f"triage: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("triage: aborted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # click usage errors and the like carry their own message
        import click

        if isinstance(exc, click.ClickException):
            print(f"triage: error: {exc.format_message()}", file=sys.stderr)
            sys.exit(exc.exit_code)
        raise
