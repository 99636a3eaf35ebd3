"""`triage report weekly` and `triage demo history`: the support lead's report, and a
simulated history to look at (and to backtest the forecasts on)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from app.cli.output import CliError, print_json, storage_lines
from app.cli.settings_loader import load_settings

report_app = typer.Typer(help="Reports for support leads.", no_args_is_help=True)

DEFAULT_EVAL_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eval"


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CliError(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from exc


@report_app.command("weekly")
def weekly(
    out: Annotated[Path, typer.Option("--out", help="Folder for report.md and its PNGs.")],
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data dir to read (default: settings).")
    ] = None,
    week: Annotated[
        str | None,
        typer.Option("--week", help="Any day of the week to report (default: the last full one)."),
    ] = None,
    no_backtest: Annotated[
        bool, typer.Option("--no-backtest", help="Skip the forecast backtest section.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Markdown and PNG charts on one week for the support lead's review.

    Volume and forecast, SLA attainment, draft acceptance and next week's staffing
    (Erlang C), for the ISO week (UTC) asked for."""
    from app.conversations.policy import SlaPolicyError, load_sla_policy
    from app.operations.forecasting.staffing import StaffingPolicyError, load_staffing_policy
    from app.operations.report.markdown import write_report
    from app.operations.report.store_reads import week_start
    from app.operations.report.weekly import ReportError, build_report, default_week
    from app.services.database import prepare_database

    settings = load_settings(data_dir=data_dir)
    try:
        sla = load_sla_policy(settings.sla_policy_path)
        staffing = load_staffing_policy(settings.staffing_policy_path)
    except (SlaPolicyError, StaffingPolicyError) as exc:
        raise CliError(str(exc)) from exc
    for line in storage_lines(settings):
        typer.echo(line, err=True)
    asked = _day(week, "--week")
    engine, sessions = prepare_database(settings)
    try:
        with sessions() as session:
            monday = week_start(asked) if asked else default_week(session, datetime.now(UTC).date())
            typer.echo(f"building the report for the week of {monday}", err=True)
            report = build_report(
                session,
                week=monday,
                sla_policy=sla,
                staffing_policy=staffing,
                backtest=not no_backtest,
            )
    except ReportError as exc:
        raise CliError(str(exc)) from exc
    finally:
        engine.dispose()
    document = write_report(report, out)
    if as_json:
        print_json(document)
        return
    typer.echo(f"wrote {document['markdown']} and {len(document['charts'])} charts")


def history(
    days: Annotated[int, typer.Option("--days", min=1, max=3660, help="Days of history.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same history).")] = 7,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data dir to fill (default: settings).")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--end", help="First day after the history, YYYY-MM-DD (default: today)."),
    ] = None,
    docs: Annotated[
        list[Path] | None,
        typer.Option("--docs", help="Sync these docs into the data dir's collection first."),
    ] = None,
    eval_dir: Annotated[
        Path,
        typer.Option("--eval-dir", help="The shared eval questions (read in place)."),
    ] = DEFAULT_EVAL_DIR,
    config: Annotated[
        Path | None, typer.Option("--config", help="Replace the built-in history.yaml.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Write a simulated, labelled support history into an empty database (demo data).

    Arrivals, triage by the real offline pipeline and the agents' actions through the
    services, as docs/demo-history.md describes."""
    from app.operations.demo.config import DemoConfigError, load_demo_config
    from app.operations.demo.history import DemoHistoryError, HistoryRequest, write_history
    from app.operations.demo.sources import SourceError

    settings = load_settings(data_dir=data_dir)
    try:
        demo_config = load_demo_config(config)
    except DemoConfigError as exc:
        raise CliError(str(exc)) from exc
    shared = eval_dir if eval_dir.is_dir() else None
    if shared is None:
        typer.echo(f"no shared eval folder at {eval_dir}: replaying the repo's sets", err=True)
    request = HistoryRequest(
        days=days,
        seed=seed,
        end=_day(end, "--end") or datetime.now(UTC).date(),
        config=demo_config,
        eval_dir=shared,
        docs=list(docs or []),
    )
    for line in storage_lines(settings):
        typer.echo(line, err=True)
    try:
        report = write_history(settings, request, progress=lambda m: typer.echo(m, err=True))
    except (DemoHistoryError, SourceError) as exc:
        raise CliError(str(exc)) from exc
    document = report.as_dict()
    if as_json:
        print_json(document)
        return
    typer.echo(
        f"{document['tickets']} tickets over {document['days']} days "
        f"({document['start']} to {document['end']}), {document['incidents']} incident bursts; "
        f"{document['pipeline_runs']} pipeline runs, {document['pipeline_reused']} reused; "
        f"{document['seconds']['total']:.0f} s"
    )
    for kind, count in document["operations"].items():
        typer.echo(f"  {kind}: {count}")


def register(app: typer.Typer) -> None:
    from app.cli.demo_seed import demo_group

    app.add_typer(report_app, name="report")
    # `triage demo` is shared with `triage demo seed`, whichever registers first.
    demo_group(app).command("history")(history)
