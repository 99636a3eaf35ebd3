"""The pipeline mode: our JSONL and labelled CSVs through the whole triage pipeline.

Every item goes through `pipeline.run` (redaction, screening, classification, retrieval,
drafting, hand-off policy); items with gold documents get one more retrieval call, k
deep, for the ranked-retrieval metrics.  MTRAG-UN tasks are collected by
`evals.collect.mtrag` instead.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from evals.collect.item_result import (
    ItemResult,
    Passage,
    citation_dicts,
    output_texts,
    token_usage,
)
from evals.collect.progress import item_progress
from evals.collect.safety import check_item
from evals.datasets.loader import EvalItem

if TYPE_CHECKING:
    from app.triage.llm.token_count import TokenCounter
    from app.triage.pipeline import TriagePipeline

RETRIEVAL_K = 10
# Run once before timing: the first call loads the embedding model, trains or loads the
# classifier and builds the lexical index, which would otherwise land in p95 latency.
WARM_UP_MESSAGE = "How do I authenticate API requests?"


def is_mtrag(items: Sequence[EvalItem]) -> bool:
    return bool(items) and all((i.model_extra or {}).get("answerability") for i in items)


def collect_pipeline(
    items: Sequence[EvalItem],
    pipeline: TriagePipeline,
    counter: TokenCounter,
    *,
    retrieval_k: int = RETRIEVAL_K,
    show_progress: bool = True,
) -> list[ItemResult]:
    """Every item through `pipeline.run`, after one un-timed warm-up call."""
    pipeline.run(WARM_UP_MESSAGE)
    observations = []
    with item_progress("eval", len(items), enabled=show_progress) as advance:
        for item in items:
            observations.append(collect_item(item, pipeline, counter, retrieval_k))
            advance()
    return observations


def collect_item(
    item: EvalItem, pipeline: TriagePipeline, counter: TokenCounter, k: int = RETRIEVAL_K
) -> ItemResult:
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
    return ItemResult(
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


def pipeline_passages(pipeline: TriagePipeline) -> dict[str, Passage]:
    """Every stored chunk's text by id, for citation checks and context metrics.

    The lexical index already holds all chunks in memory, so this costs no store call.
    """
    chunks = pipeline.retriever.lexical_index().chunks
    return {c.chunk_id: Passage(str(c.metadata.get("doc_id", "")), c.text) for c in chunks}
