"""`triage eval DATASET` (offline evaluation, regression gate) and `triage eval export-reviews`.

`eval` is a command group whose default command is `run`: when the first argument is
not a subcommand name, `run` is implied, so `triage eval data.jsonl --json` and
`triage eval run data.jsonl --json` are the same, while `triage eval export-reviews`
reaches its own command.  Exit codes: 0 success, 1 usage or data error, 3 the baseline
gate failed (after the metrics, report and JSON have been written).
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from app.cli.common import CliError, load_settings, print_json, stderr_console

if TYPE_CHECKING:
    # typer vendors its own click; the group's context is that click's Context.
    from typer._click import Context

    from app.knowledge import KnowledgeBase
    from evals.datasets import EvalItem
    from evals.gate import GateResult
    from evals.runner import EvalRun

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
    from evals.datasets import DatasetError, load_dataset
    from evals.runner import RunOptions, is_mtrag, run_eval

    # Checked here rather than with typer's min=: its errors bypass the one-line handler.
    if limit is not None and limit < 1:
        raise CliError("--limit must be at least 1")
    if ingest_subset is not None and ingest_subset < 0:
        raise CliError("--ingest-subset must be 0 or more")
    if not dataset.is_file():
        raise CliError(f"dataset not found: {dataset}")
    try:
        items = load_dataset(dataset, text_col=text_col, label_col=label_col)
    except DatasetError as exc:
        raise CliError(f"bad dataset: {exc}") from exc
    if not items:
        raise CliError(f"dataset {dataset} has no items")
    items = items[:limit] if limit else items
    base = _read_baseline(baseline) if baseline else None
    rules = _read_tolerances(tolerances) if base is not None else None
    if ingest_subset is not None and not ingest:
        raise CliError("--ingest-subset needs --ingest PATH")

    settings = load_settings(collection=collection)
    kb = _knowledge_base(settings)
    mtrag = is_mtrag(items)
    if not mtrag:
        _ensure_docs(kb, items, ingest or [], ingest_subset)
    from app.services.pipelines import build_pipeline

    pipeline = build_pipeline(settings, kb)
    judge, judge_name = None, None
    if settings.llm_enabled and not no_judge:
        judge, judge_name = _judge(settings, kb, judge_model)
    options = RunOptions(
        dataset=dataset.name,
        judge=judge,
        judge_model=judge_name,
        token_model=settings.llm_model,
        token_cache_dir=settings.tiktoken_cache_dir,
        answer_threshold=settings.ask_answer_min_confidence,
    )
    result = run_eval(items, pipeline, options)

    gate = _gate(result.metrics, base, rules) if base is not None and rules is not None else None
    if report is not None:
        _write(report, result, base, gate, dataset.name)
    if save_baseline is not None:
        _save_baseline(save_baseline, result.metrics)
    if as_json:
        print_json(_json_safe(result.metrics))
    else:
        _print_summary(result.metrics)
    if gate is not None:
        _announce(gate)


# --- steps ---------------------------------------------------------------------------


def _read_baseline(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot read baseline {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise CliError(f"baseline {path} is not JSON: {exc.msg} (line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise CliError(f"baseline {path} must hold a JSON object of metrics")
    return data


def _read_tolerances(path: Path | None) -> dict[str, Any]:
    from evals.directions import effective_tolerances
    from evals.gate import DEFAULT_TOLERANCES_PATH, load_tolerances

    target = path or DEFAULT_TOLERANCES_PATH
    try:
        return effective_tolerances(load_tolerances(target))
    except OSError as exc:
        raise CliError(f"cannot read tolerances {target}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise CliError(f"bad tolerances {target}: {exc}") from exc


def _knowledge_base(settings: Any) -> KnowledgeBase:
    from app.knowledge import build_knowledge_base
    from ingest.vectorstore import EmbeddingMismatchError

    try:
        kb = build_knowledge_base(settings)
        kb.store.collection  # noqa: B018 - opening it checks the embedding model matches
    except EmbeddingMismatchError as exc:
        raise CliError(str(exc)) from exc
    return kb


def _ensure_docs(
    kb: KnowledgeBase, items: Sequence[EvalItem], paths: Sequence[Path], subset: int | None
) -> None:
    """Fill an empty collection from `paths` (or their gold-page subset)."""
    if kb.store.exists() and kb.store.count() > 0:
        if paths:
            stderr_console().print(
                f"collection {kb.store.name!r} already holds {kb.store.count()} chunks; "
                "--ingest skipped"
            )
        return
    if not paths and not _needs_docs(items):
        return  # only triage labels: classification does not read the knowledge base
    if not paths:
        raise CliError(
            f"collection {kb.store.name!r} is empty: run `triage ingest PATH` first "
            "or pass --ingest PATH"
        )
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise CliError(f"no such file or directory: {', '.join(missing)}")
    console = stderr_console()
    with tempfile.TemporaryDirectory(prefix="triage-eval-subset-") as scratch:
        roots = list(paths)
        if subset is not None:
            from evals.subset import build_subset

            roots = [
                build_subset(p, items, subset, Path(scratch) / f"root{i}")
                for i, p in enumerate(paths)
            ]
        with console.status("ingesting the evaluation corpus"):
            report = kb.synchronizer().sync(roots)
    console.print(
        f"ingested {report.docs_added} docs, {report.chunks_written} chunks "
        f"in {report.seconds:.1f}s"
    )
    if report.docs_failed:
        raise CliError(f"{report.docs_failed} document(s) failed to ingest")


def _needs_docs(items: Sequence[EvalItem]) -> bool:
    return any(i.gold_doc_ids or i.reference_answer or i.answerable is not None for i in items)


def _judge(settings: Any, kb: KnowledgeBase, override: str | None) -> tuple[Any, str]:
    from app.triage.llm.client import LLMNotConfigured, RemoteModelBlocked
    from evals.judge import build_judge, judge_model_for

    model = judge_model_for(settings, override)
    try:
        return build_judge(settings, kb.embeddings, model), model
    except (LLMNotConfigured, RemoteModelBlocked) as exc:
        raise CliError(f"cannot build the LLM judge: {exc}") from exc


def _gate(metrics: dict[str, Any], base: dict[str, Any], rules: dict[str, Any]) -> GateResult:
    from evals.gate import compare

    return compare(metrics, base, rules)


def _write(
    out: Path, result: EvalRun, base: dict[str, Any] | None, gate: GateResult | None, name: str
) -> None:
    from evals.report import write_report

    path = write_report(
        out,
        result.metrics,
        baseline=base,
        gate=gate,
        confusion=result.confusion,
        score_distributions=result.distributions,
        worst_examples=result.worst_examples(),
        title=f"Evaluation: {name}",
    )
    with (out / "records.jsonl").open("w", encoding="utf-8") as handle:
        for record in result.records:
            handle.write(json.dumps(_json_safe(record), ensure_ascii=False) + "\n")
    stderr_console().print(f"report written to {path}")


def _save_baseline(path: Path, metrics: dict[str, Any]) -> None:
    from evals.baseline import baseline_of

    path.parent.mkdir(parents=True, exist_ok=True)
    document = json.dumps(_json_safe(baseline_of(metrics)), indent=2, sort_keys=True)
    path.write_text(document + "\n", encoding="utf-8")
    stderr_console().print(f"baseline written to {path}")


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


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


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
    from evals.export import export_reviews as export
    from evals.export import parse_since

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
