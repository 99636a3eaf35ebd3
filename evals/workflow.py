"""The evaluation workflow behind `triage eval DATASET`: collect → score → gate → report.

`prepare(request)` reads and checks the inputs (dataset, baseline, tolerances) before
any work; `execute(plan, settings, ui)` fills an empty collection when asked, builds the
pipeline (and the LLM judge when an LLM is configured), runs `run_eval`, gates the
metrics against the baseline and writes the report and a new baseline.  `run_eval`
alone is the collect-and-score core, for callers holding a pipeline already.  Errors the
user can act on are raised as `EvalError` with a one-line message.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from evals.collect.pipeline_mode import (
    RETRIEVAL_K,
    collect_pipeline,
    is_mtrag,
    pipeline_passages,
)
from evals.datasets.loader import EvalItem
from evals.gate import GateResult
from evals.report.item_problems import item_record, worst_examples
from evals.score.graded import Grade, graded_metrics, load_grades
from evals.score.scoring import Judge, ScoringOptions, by_class_metrics, score

if TYPE_CHECKING:
    from app.knowledge import KnowledgeBase
    from app.settings import Settings
    from app.triage.pipeline import TriagePipeline


class EvalError(Exception):
    """Bad input or a failed step, said in one line."""


class Ui(Protocol):
    """Where the workflow reports progress (stderr in the CLI)."""

    def note(self, message: str) -> None: ...

    def status(self, message: str) -> AbstractContextManager[Any]: ...


# --- collect and score ---------------------------------------------------------------


@dataclass(frozen=True)
class RunOptions:
    dataset: str = ""  # shown in the report and recorded under `run`
    retrieval_k: int = RETRIEVAL_K
    show_progress: bool = True
    judge: Judge | None = None
    judge_model: str | None = None
    token_model: str = "gpt-4o-mini"  # whose tokenizer counts offline drafts
    token_cache_dir: Path | None = None  # tiktoken's local BPE files (settings)
    answer_threshold: float = 0.5  # /v1/ask's threshold, for the self-service figures
    grades: Mapping[str, Grade] | None = None  # blind grades of earlier drafts, by row id


@dataclass
class EvalRun:
    metrics: dict[str, Any]
    records: list[dict[str, Any]]
    confusion: tuple[list[str], list[list[int]]] | None = None
    distributions: dict[str, list[float]] = field(default_factory=dict)

    def worst_examples(self, n: int = 15) -> list[dict[str, Any]]:
        return worst_examples(self.records, n)


def run_eval(
    items: Sequence[EvalItem], pipeline: TriagePipeline, options: RunOptions | None = None
) -> EvalRun:
    """Collect and score `items`.  Our JSONL and labelled CSVs go through the whole
    pipeline; MTRAG-UN tasks (recognised by `answerability`) are drafted over their
    reference passages (`evals.collect.mtrag`)."""
    options = options or RunOptions()
    if not items:
        raise ValueError("the dataset has no items")
    from app.triage.llm.token_count import TokenCounter

    counter = TokenCounter(options.token_model, options.token_cache_dir)
    started = time.perf_counter()
    if is_mtrag(items):
        from evals.collect.mtrag import collect_mtrag

        mode = "mtrag_reference"
        observations, passages = collect_mtrag(
            items, pipeline, counter, show_progress=options.show_progress
        )
        scoring = ScoringOptions(retrieval=False, context_metrics=False, judge=options.judge)
    else:
        mode = "pipeline"
        observations = collect_pipeline(
            items,
            pipeline,
            counter,
            retrieval_k=options.retrieval_k,
            show_progress=options.show_progress,
        )
        passages = pipeline_passages(pipeline)
        labels = list(pipeline.taxonomy.categories)
        scoring = ScoringOptions(
            category_labels=labels, judge=options.judge, answer_threshold=options.answer_threshold
        )
    scored = score(observations, passages, scoring)
    metrics = scored.metrics
    if mode == "mtrag_reference":
        metrics.setdefault("abstention", {})["by_class"] = by_class_metrics(observations)
    metrics["run"] = {
        "dataset": options.dataset,
        "mode": mode,
        "n_items": len(items),
        "seconds": round(time.perf_counter() - started, 2),
        "drafter": pipeline.drafter.name,
        "embedding_model": getattr(pipeline.retriever.embeddings, "model_name", "unknown"),
        "retrieval_k": options.retrieval_k,
        "judge_model": options.judge_model if options.judge is not None else None,
    }
    if options.grades is not None:
        metrics["graded"] = graded_metrics(observations, options.grades, scored.per_item)
    records = [item_record(o, scored.per_item.get(o.item.id, {})) for o in observations]
    return EvalRun(metrics, records, scored.confusion, scored.distributions)


# --- the whole workflow --------------------------------------------------------------


@dataclass(frozen=True)
class EvalRequest:
    dataset: Path
    report: Path | None = None
    baseline: Path | None = None
    tolerances: Path | None = None  # None: evals/tolerances.yaml
    limit: int | None = None
    ingest: Sequence[Path] = ()
    ingest_subset: int | None = None
    save_baseline: Path | None = None
    graded: Path | None = None  # blind grades to read confidence against
    judge_model: str | None = None
    no_judge: bool = False
    text_col: str = "text"
    label_col: str = "category"


@dataclass(frozen=True)
class EvalPlan:
    request: EvalRequest
    items: list[EvalItem]
    baseline: dict[str, Any] | None
    tolerances: dict[str, Any] | None  # loaded only when there is a baseline to gate on
    grades: dict[str, Grade] | None = None


@dataclass(frozen=True)
class EvalOutcome:
    run: EvalRun
    gate: GateResult | None


def prepare(request: EvalRequest) -> EvalPlan:
    """Read the dataset, baseline and tolerances; fail before any work is done."""
    from evals.datasets.loader import DatasetError, load_dataset
    from evals.gate import DEFAULT_TOLERANCES_PATH, load_tolerances, read_baseline

    dataset = request.dataset
    if not dataset.is_file():
        raise EvalError(f"dataset not found: {dataset}")
    try:
        items = load_dataset(dataset, text_col=request.text_col, label_col=request.label_col)
    except DatasetError as exc:
        raise EvalError(f"bad dataset: {exc}") from exc
    if not items:
        raise EvalError(f"dataset {dataset} has no items")
    items = items[: request.limit] if request.limit else items
    baseline, tolerances = None, None
    if request.baseline:
        try:
            baseline = read_baseline(request.baseline)
        except ValueError as exc:
            raise EvalError(str(exc)) from exc
        target = request.tolerances or DEFAULT_TOLERANCES_PATH
        try:
            tolerances = load_tolerances(target)
        except OSError as exc:
            raise EvalError(f"cannot read tolerances {target}: {exc.strerror or exc}") from exc
        except ValueError as exc:
            raise EvalError(f"bad tolerances {target}: {exc}") from exc
    if request.ingest_subset is not None and not request.ingest:
        raise EvalError("--ingest-subset needs --ingest PATH")
    grades = None
    if request.graded is not None:
        try:
            grades = load_grades(request.graded)
        except OSError as exc:
            raise EvalError(f"cannot read {request.graded}: {exc.strerror or exc}") from exc
        except ValueError as exc:
            raise EvalError(f"bad graded file: {exc}") from exc
    return EvalPlan(request, items, baseline, tolerances, grades)


def execute(plan: EvalPlan, settings: Settings, ui: Ui) -> EvalOutcome:
    """Evaluate, gate and write what was asked for; the caller prints the metrics."""
    from app.services.pipelines import build_pipeline
    from evals.gate import baseline_of, compare
    from evals.report.markdown import json_safe, write_report

    request = plan.request
    kb = _knowledge_base(settings)
    if not is_mtrag(plan.items):
        _ensure_docs(kb, plan.items, request.ingest, request.ingest_subset, ui)
    pipeline = build_pipeline(settings, kb)
    judge, judge_name = None, None
    if settings.llm_enabled and not request.no_judge:
        judge, judge_name = _judge(settings, kb, request.judge_model)
    options = RunOptions(
        dataset=request.dataset.name,
        judge=judge,
        judge_model=judge_name,
        token_model=settings.llm_model,
        token_cache_dir=settings.tiktoken_cache_dir,
        answer_threshold=settings.ask_answer_min_confidence,
        grades=plan.grades,
    )
    run = run_eval(plan.items, pipeline, options)
    gate = None
    if plan.baseline is not None and plan.tolerances is not None:
        gate = compare(run.metrics, plan.baseline, plan.tolerances)
    if request.report is not None:
        path = write_report(
            request.report,
            run.metrics,
            baseline=plan.baseline,
            gate=gate,
            confusion=run.confusion,
            score_distributions=run.distributions,
            worst_examples=run.worst_examples(),
            title=f"Evaluation: {request.dataset.name}",
        )
        with (request.report / "records.jsonl").open("w", encoding="utf-8") as handle:
            for record in run.records:
                handle.write(json.dumps(json_safe(record), ensure_ascii=False) + "\n")
        ui.note(f"report written to {path}")
    if request.save_baseline is not None:
        target = request.save_baseline
        target.parent.mkdir(parents=True, exist_ok=True)
        document = json.dumps(json_safe(baseline_of(run.metrics)), indent=2, sort_keys=True)
        target.write_text(document + "\n", encoding="utf-8")
        ui.note(f"baseline written to {target}")
    return EvalOutcome(run, gate)


def _knowledge_base(settings: Settings) -> KnowledgeBase:
    from app.knowledge import build_knowledge_base
    from ingest.vectorstore import EmbeddingMismatchError

    try:
        kb = build_knowledge_base(settings)
        kb.store.collection  # noqa: B018 - opening it checks the embedding model matches
    except EmbeddingMismatchError as exc:
        raise EvalError(str(exc)) from exc
    return kb


def _ensure_docs(
    kb: KnowledgeBase,
    items: Sequence[EvalItem],
    paths: Sequence[Path],
    subset: int | None,
    ui: Ui,
) -> None:
    """Fill an empty collection from `paths` (or their gold-page subset)."""
    if kb.store.exists() and kb.store.count() > 0:
        if paths:
            ui.note(
                f"collection {kb.store.name!r} already holds {kb.store.count()} chunks; "
                "--ingest skipped"
            )
        return
    if not paths and not _needs_docs(items):
        return  # only triage labels: classification does not read the knowledge base
    if not paths:
        raise EvalError(
            f"collection {kb.store.name!r} is empty: run `triage ingest PATH` first "
            "or pass --ingest PATH"
        )
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise EvalError(f"no such file or directory: {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="triage-eval-subset-") as scratch:
        roots = list(paths)
        if subset is not None:
            from evals.collect.corpus_subset import build_subset

            roots = [
                build_subset(p, items, subset, Path(scratch) / f"root{i}")
                for i, p in enumerate(paths)
            ]
        with ui.status("ingesting the evaluation corpus"):
            report = kb.synchronizer().sync(roots)
    ui.note(
        f"ingested {report.docs_added} docs, {report.chunks_written} chunks "
        f"in {report.seconds:.1f}s"
    )
    if report.docs_failed:
        raise EvalError(f"{report.docs_failed} document(s) failed to ingest")


def _needs_docs(items: Sequence[EvalItem]) -> bool:
    return any(i.gold_doc_ids or i.reference_answer or i.answerable is not None for i in items)


def _judge(settings: Settings, kb: KnowledgeBase, override: str | None) -> tuple[Judge, str]:
    from app.triage.llm.client import LLMNotConfigured, RemoteModelBlocked
    from evals.score.judge import build_judge, judge_model_for

    model = judge_model_for(settings, override)
    try:
        return build_judge(settings, kb.embeddings, model), model
    except (LLMNotConfigured, RemoteModelBlocked) as exc:
        raise EvalError(f"cannot build the LLM judge: {exc}") from exc
