"""Run a dataset through the triage pipeline and score whatever labels it carries.

`run_eval(items, pipeline)` is the entry point.  Our JSONL and labelled CSVs go through
the whole pipeline (`pipeline.run`), plus one extra retrieval call per item with gold
documents for the ranked-retrieval metrics; MTRAG-UN tasks (recognised by their
`answerability` field) go to `evals.mtrag`, which drafts over the reference passages
instead.  The result holds the nested metrics object (see `evals/README.md` for the
keys), per-item records and what the report plots.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.datasets import EvalItem
from evals.observation import Observation, citation_dicts, output_texts, token_usage
from evals.progress import item_progress
from evals.records import item_record, worst_examples
from evals.safety import check_item
from evals.scoring import Judge, Passage, ScoringOptions, score

if TYPE_CHECKING:
    from app.triage.llm.token_count import TokenCounter
    from app.triage.pipeline import TriagePipeline

RETRIEVAL_K = 10
# Run once before timing: the first call loads the embedding model, trains or loads the
# classifier and builds the lexical index, which would otherwise land in p95 latency.
WARM_UP_MESSAGE = "How do I authenticate API requests?"


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


@dataclass
class EvalRun:
    metrics: dict[str, Any]
    records: list[dict[str, Any]]
    confusion: tuple[list[str], list[list[int]]] | None = None
    distributions: dict[str, list[float]] = field(default_factory=dict)

    def worst_examples(self, n: int = 15) -> list[dict[str, Any]]:
        return worst_examples(self.records, n)


def is_mtrag(items: Sequence[EvalItem]) -> bool:
    return bool(items) and all((i.model_extra or {}).get("answerability") for i in items)


def run_eval(
    items: Sequence[EvalItem], pipeline: TriagePipeline, options: RunOptions | None = None
) -> EvalRun:
    """Evaluate `items`; the mode follows from the dataset (see the module docstring)."""
    options = options or RunOptions()
    if not items:
        raise ValueError("the dataset has no items")
    from app.triage.llm.token_count import TokenCounter

    counter = TokenCounter(options.token_model, options.token_cache_dir)
    started = time.perf_counter()
    if is_mtrag(items):
        from evals.mtrag import by_class_metrics, observe_mtrag

        mode = "mtrag_reference"
        observations, passages = observe_mtrag(
            items, pipeline, counter, show_progress=options.show_progress
        )
        scoring = ScoringOptions(retrieval=False, context_metrics=False, judge=options.judge)
    else:
        mode = "pipeline"
        observations = _observe_all(items, pipeline, counter, options)
        passages = _passages(pipeline)
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
    records = [item_record(o, scored.per_item.get(o.item.id, {})) for o in observations]
    return EvalRun(metrics, records, scored.confusion, scored.distributions)


# --- the pipeline mode -----------------------------------------------------------------


def _observe_all(
    items: Sequence[EvalItem],
    pipeline: TriagePipeline,
    counter: TokenCounter,
    options: RunOptions,
) -> list[Observation]:
    pipeline.run(WARM_UP_MESSAGE)
    observations = []
    with item_progress("eval", len(items), enabled=options.show_progress) as advance:
        for item in items:
            observations.append(observe_item(item, pipeline, counter, options.retrieval_k))
            advance()
    return observations


def observe_item(
    item: EvalItem, pipeline: TriagePipeline, counter: TokenCounter, k: int = RETRIEVAL_K
) -> Observation:
    from app.triage.draft.protocol import Turn

    history = [Turn(role=t.role, content=t.content) for t in item.conversation_history]
    started = time.perf_counter()
    result = pipeline.run(item.message, history=history)
    latency_ms = (time.perf_counter() - started) * 1000
    ranked: list[str] = []
    if item.gold_doc_ids:
        # Same query text and identifier terms as the pipeline's own retrieval, but k
        # deep, so hit@10 and nDCG@10 are measurable; the redacted text keeps pasted
        # secrets out of the embedding call as in production.
        signals = result.signals
        extra = [*signals.error_codes, *(e.path for e in signals.endpoints)]
        hits = pipeline.retriever.search(result.message, k, extra_terms=extra)
        ranked = list(dict.fromkeys(h.doc_id for h in hits))
    draft = result.draft
    prompt, completion, from_provenance = token_usage(draft, counter)
    return Observation(
        item=item,
        question=result.message,
        needs_human=draft.needs_human,
        reason=draft.reason,
        confidence=draft.confidence,
        draft_text=draft.text,
        drafter=draft.provenance.drafter,
        citations=citation_dicts(draft),
        retrieved_chunk_ids=list(draft.provenance.retrieved_chunk_ids),
        latency_ms=latency_ms,
        prompt_tokens=prompt,
        completion_tokens=completion,
        tokens_from_provenance=from_provenance,
        safety=check_item(
            item.message, result.message, output_texts(draft), len(result.redactions)
        ),
        category=result.triage.category,
        priority=result.triage.priority,
        flags=list(result.triage.flags),
        ranked_doc_ids=ranked,
    )


def _passages(pipeline: TriagePipeline) -> dict[str, Passage]:
    """Every stored chunk's text by id, for citation checks and context metrics.

    The lexical index already holds all chunks in memory, so this costs no store call.
    """
    chunks = pipeline.retriever.lexical_index().chunks
    return {c.chunk_id: Passage(str(c.metadata.get("doc_id", "")), c.text) for c in chunks}
