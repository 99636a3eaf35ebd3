"""`triage eval DATASET` (offline evaluation, regression gate) and `triage eval export-reviews`.

A thin shell: options are parsed and results printed here; the workflow itself (inputs,
collect, score, gate, report) is `evals.workflow`.

`eval` is a command group whose default command is `run`: when the first argument is
not a subcommand name, `run` is implied, so `triage eval data.jsonl --json` and
`triage eval run data.jsonl --json` are the same, while `triage eval export-reviews`
reaches its own command.  Exit codes: 0 success, 1 usage or data error, 3 the baseline
gate failed (after the metrics, report and JSON have been written).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from app.cli.output import CliError, print_json, stderr_console
from app.cli.settings_loader import load_settings

if TYPE_CHECKING:
    # typer vendors its own click; the group's context is that click's Context.
    from typer._click import Context

    from evals.gate import GateResult

DEFAULT_COMMAND = "run"
GATE_FAILED_EXIT = 3
_MAX_NAMED_FAILURES = 6


class DatasetGroup(TyperGroup):
    """A group that runs `run` when its first argument is not a subcommand."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def run(
    dataset: Annotated[
        Path, typer.Argument(help="JSONL (ours or MTRAG-UN, detected) or labelled CSV.")
    ],
    collection: Annotated[
        str | None, typer.Option("--collection", help="Chroma collection (default: settings).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write metrics.json, report.md, PNGs here.")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Gate against this metrics JSON.")
    ] = None,
    tolerances: Annotated[
        Path | None, typer.Option("--tolerances", help="Gate tolerances (default: built-in).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Evaluate the first N items.")
    ] = None,
    ingest: Annotated[
        list[Path] | None,
        typer.Option("--ingest", help="Docs to sync first when the collection is empty."),
    ] = None,
    ingest_subset: Annotated[
        int | None,
        typer.Option(
            "--ingest-subset",
            help="With --ingest: only the dataset's gold pages plus N distractor pages.",
        ),
    ] = None,
    save_baseline: Annotated[
        Path | None,
        typer.Option(
            "--save-baseline",
            help="Write this run's metrics as a baseline file (machine timings left out).",
        ),
    ] = None,
    graded: Annotated[
        Path | None,
        typer.Option(
            "--graded",
            help="Blind grades of drafts (evals/datasets/*_graded.jsonl): confidence and the "
            "automatic reading are checked against them where a draft is unchanged.",
        ),
    ] = None,
    judge_model: Annotated[
        str | None, typer.Option("--judge-model", help="LLM judge (default: settings).")
    ] = None,
    no_judge: Annotated[
        bool, typer.Option("--no-judge", help="Skip LLM-judged metrics even with an LLM.")
    ] = False,
    text_col: Annotated[str, typer.Option("--text-col", help="CSV text column.")] = "text",
    label_col: Annotated[str, typer.Option("--label-col", help="CSV label column.")] = "category",
    as_json: JsonOpt = False,
) -> None:
    """Evaluate DATASET offline; with --baseline, exit 3 when a metric regressed."""
    from app.settings import apply_ragas_telemetry
    from evals.workflow import EvalError, EvalRequest, execute, prepare

    # Checked here rather than with typer's min=: its errors bypass the one-line handler.
    if limit is not None and limit < 1:
        raise CliError("--limit must be at least 1")
    if ingest_subset is not None and ingest_subset < 0:
        raise CliError("--ingest-subset must be 0 or more")
    request = EvalRequest(
        dataset=dataset,
        report=report,
        baseline=baseline,
        tolerances=tolerances,
        limit=limit,
        ingest=tuple(ingest or ()),
        ingest_subset=ingest_subset,
        save_baseline=save_baseline,
        graded=graded,
        judge_model=judge_model,
        no_judge=no_judge,
        text_col=text_col,
        label_col=label_col,
    )
    try:
        plan = prepare(request)
        settings = load_settings(collection=collection)
        apply_ragas_telemetry(settings)  # before ragas is imported by the scoring
        outcome = execute(plan, settings, _ConsoleUi())
    except EvalError as exc:
        raise CliError(str(exc)) from exc
    metrics = outcome.run.metrics
    if as_json:
        from evals.report.markdown import json_safe

        print_json(json_safe(metrics))
    else:
        _print_summary(metrics)
    if outcome.gate is not None:
        _announce(outcome.gate)


class _ConsoleUi:
    """The workflow's progress notes, on stderr so stdout stays free for --json."""

    def __init__(self) -> None:
        self._console = stderr_console()

    def note(self, message: str) -> None:
        self._console.print(message)

    def status(self, message: str) -> AbstractContextManager[Any]:
        return self._console.status(message)


def _announce(gate: GateResult) -> None:
    if gate.passed:
        stderr_console().print(f"gate passed ({len(gate.rows)} metrics compared)")
        return
    failures = gate.failures
    named = [
        f"{r.metric} {_fmt(r.baseline)}→{_fmt(r.current)} (tolerance {r.tolerance:g})"
        for r in failures[:_MAX_NAMED_FAILURES]
    ]
    more = f" and {len(failures) - len(named)} more" if len(failures) > len(named) else ""
    raise CliError(
        f"gate failed: {len(failures)} metric(s) regressed: {'; '.join(named)}{more}",
        exit_code=GATE_FAILED_EXIT,
    )


def _fmt(value: float | None) -> str:
    return "missing" if value is None else f"{value:.4g}"


_SUMMARY_KEYS = (
    "retrieval.hit@5",
    "retrieval.mrr@10",
    "classification.category.accuracy",
    "classification.category.macro_f1",
    "classification.priority.accuracy",
    "classification.p1_recall",
    "abstention.precision",
    "abstention.recall",
    "answers.rouge_l",
    "answers.citation_validity",
    "safety.redaction_leaks",
    "latency.p50_ms",
    "latency.p95_ms",
)


def _print_summary(metrics: dict[str, Any]) -> None:
    from evals.gate import flatten

    flat = flatten(metrics)
    for key in _SUMMARY_KEYS:
        if key in flat:
            typer.echo(f"{key:<36} {flat[key]:.4f}")
    typer.echo(f"{'items':<36} {metrics.get('run', {}).get('n_items', 0)}")


# --- export-reviews ------------------------------------------------------------------


def export_reviews(
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write.")],
    since: Annotated[
        str | None, typer.Option("--since", help="Only decisions from this date (YYYY-MM-DD).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Export approved/edited drafts (positives) and rejected ones (negatives) as JSONL."""
    from evals.datasets.review_export import export_reviews as export
    from evals.datasets.review_export import parse_since

    try:
        start = parse_since(since) if since else None
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    settings = load_settings()
    try:
        summary = export(settings.resolved_database_url, out, since=start)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if as_json:
        print_json(summary.as_dict())
    else:
        typer.echo(
            f"{summary.rows} rows ({summary.positives} approved, {summary.negatives} rejected) "
            f"written to {summary.path}"
        )


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        cls=DatasetGroup,
        no_args_is_help=True,
        help="Offline evaluation. `triage eval DATASET ...` is short for `triage eval run "
        "DATASET ...`; `export-reviews` turns review decisions into a dataset.",
    )
    group.command(DEFAULT_COMMAND)(run)
    group.command("export-reviews")(export_reviews)
    app.add_typer(group, name="eval")
