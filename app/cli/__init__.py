"""The `triage` console script.

Every command that prints results takes `--json` and then prints exactly one JSON
document on stdout; progress and logs go to stderr.  Failures exit non-zero with
a one-line reason on stderr.
"""

from __future__ import annotations

import sys

import typer

from app.cli.output import CliError

app = typer.Typer(
    name="triage",
    help="Support triage for developer-facing APIs: knowledge base, triage, drafts, review.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    from app.cli.answers import register as register_answers
    from app.cli.classifier import register as register_classifier
    from app.cli.demo_seed import register as register_demo_seed
    from app.cli.eval_cmd import register as register_eval
    from app.cli.ingest_jobs import register as register_ingest_jobs
    from app.cli.insights import register as register_insights
    from app.cli.kb import register as register_kb
    from app.cli.operations import register as register_operations
    from app.cli.serve import register as register_serve
    from app.cli.sql_cmd import register as register_sql
    from app.cli.tokens import register as register_tokens
    from app.cli.triage_cmds import register as register_triage

    for register in (
        register_kb,
        register_ingest_jobs,
        register_triage,
        register_serve,
        register_tokens,
        register_classifier,
        register_eval,
        register_answers,
        register_demo_seed,
        register_sql,
        register_insights,
        register_operations,
    ):
        register(app)


def _is_usage_error(exc: BaseException) -> bool:
    # typer vendors its own click, so match click's exception protocol rather than its class.
    return hasattr(exc, "format_message") and isinstance(getattr(exc, "exit_code", None), int)


def main() -> None:
    _register_commands()
    try:
        app(standalone_mode=False)
    except CliError as exc:
        print(f"triage: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except (typer.Exit, typer.Abort) as exc:
        if isinstance(exc, typer.Abort):
            print("triage: aborted", file=sys.stderr)
            sys.exit(130)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if _is_usage_error(exc):
            message = " ".join(str(exc.format_message()).split())  # type: ignore[attr-defined]
            print(f"triage: error: {message}", file=sys.stderr)
            sys.exit(int(exc.exit_code))  # type: ignore[attr-defined]
        # Anything else still gets one line (the contract); its type names the failing part.
        detail = " ".join(str(exc).split()) or "no detail"
        print(f"triage: error: {type(exc).__name__}: {detail}", file=sys.stderr)
        sys.exit(1)
