"""MTRAG-UN in the reference setting: draft over the gold passages, score the abstention.

The MTRAG-UN snapshot has no corpora, so nothing is retrieved: each task's
`reference_contexts` become the hits the drafter sees, and the pipeline's abstention
policy (`handoff_reason`) decides whether a person must answer.  That policy needs a
dense similarity per passage, which reference passages lack, so it is computed here as
the cosine between the question and each passage with the knowledge base's embeddings,
the same quantity retrieval reports as `dense_score`.  Passages are ranked by it and
the top `pipeline.options.k` kept, as retrieval would hand over at most k.

The tasks are about IBM Cloud, government services, Wikipedia and personal finance, not
our product, so they are not run through the category classifier: the triage given to
the policy is the taxonomy's fallback category with the real screening results (secret
redaction, injection flag, signals).  Category-based hand-offs (security, incident)
therefore never fire, and what is measured is the documentation-support part of the
policy plus the drafter's own refusal.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

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
    from app.triage.draft.protocol import DraftRequest
    from app.triage.llm.token_count import TokenCounter
    from app.triage.pipeline import TriagePipeline
    from app.triage.results import DraftReply
    from ingest.retrieval import Hit


def cosine_scores(embeddings: Any, question: str, passages: Sequence[str]) -> list[float]:
    if not passages:
        return []
    query = np.asarray(embeddings.embed_query(question), dtype=float)
    docs = np.asarray(embeddings.embed_documents(list(passages)), dtype=float)
    norms = np.linalg.norm(docs, axis=1) * np.linalg.norm(query)
    sims = docs @ query / np.where(norms == 0, 1.0, norms)
    return [float(s) for s in sims]


def reference_hits(item: EvalItem, embeddings: Any, k: int) -> list[Hit]:
    """The task's passages as retrieval hits, best first, at most `k`."""
    from ingest.retrieval import Hit

    texts = [t for t in item.reference_contexts if t.strip()]
    scores = cosine_scores(embeddings, item.message, texts)
    doc_ids = list(item.gold_doc_ids)
    hits = []
    for i, (text, similarity) in enumerate(zip(texts, scores, strict=True)):
        doc_id = doc_ids[i] if i < len(doc_ids) and len(doc_ids) == len(texts) else f"p{i}"
        hits.append(
            Hit(
                chunk_id=f"{item.id}#{i}",
                doc_id=doc_id,
                source=doc_id,
                title="",
                url=None,
                heading="",
                score=similarity,
                text=text,
                kind="reference_passage",
                dense_score=similarity,
            )
        )
    hits.sort(key=lambda h: h.score, reverse=True)
    return hits[:k]


def _request(item: EvalItem, pipeline: TriagePipeline, text: str, hits: list[Hit]) -> Any:
    from app.triage.draft.protocol import DraftRequest, Turn
    from app.triage.results import TriageResult
    from app.triage.screen.injection import detect_injection
    from app.triage.screen.signals import extract_signals

    signals = extract_signals(text, pipeline.known_error_codes)
    taxonomy = pipeline.taxonomy
    category = taxonomy.fallback_category
    flags = ["prompt_injection"] if detect_injection(text).flagged else []
    language = pipeline.language.detect(text)
    triage = TriageResult(
        category=category,
        confidence=1.0,
        priority=taxonomy.categories[category].default_priority,
        team=taxonomy.team_for(category),
        language=language,
        sentiment="neutral",
        flags=flags,
        classifier="eval:fallback",
    )
    history = [Turn(role=t.role, content=t.content) for t in item.conversation_history]
    return DraftRequest(
        question=text,
        history=history,
        hits=hits,
        triage=triage,
        signals=signals,
        language=language,
    )


def draft_with_policy(request: DraftRequest, pipeline: TriagePipeline, secret: bool) -> DraftReply:
    """The pipeline's own decision sequence on the task's reference passages."""
    if secret:
        flags = [*request.triage.flags, "secret"]
        request = request.model_copy(
            update={"triage": request.triage.model_copy(update={"flags": flags})}
        )
    return pipeline.draft_for(request)


def collect_task(
    item: EvalItem, pipeline: TriagePipeline, counter: TokenCounter
) -> tuple[ItemResult, list[Hit]]:
    from app.triage.screen.secrets import redact_secrets

    started = time.perf_counter()
    redaction = redact_secrets(item.message)
    text = redaction.text
    hits = reference_hits(item, pipeline.retriever.embeddings, pipeline.options.k)
    request = _request(item, pipeline, text, hits)
    draft = draft_with_policy(request, pipeline, bool(redaction.redactions))
    latency_ms = (time.perf_counter() - started) * 1000
    prompt, completion, from_provenance = token_usage(draft, counter)
    observation = ItemResult(
        item=item,
        question=text,
        needs_human=draft.needs_human,
        reason=draft.reason,
        confidence=draft.confidence,
        draft_text=draft.text,
        drafter=draft.provenance.drafter,
        citations=citation_dicts(draft),
        retrieved_chunk_ids=[h.chunk_id for h in hits],
        latency_ms=latency_ms,
        prompt_tokens=prompt,
        completion_tokens=completion,
        tokens_from_provenance=from_provenance,
        safety=check_item(item.message, text, output_texts(draft), len(redaction.redactions)),
        flags=list(request.triage.flags),
    )
    return observation, hits


def collect_mtrag(
    items: Sequence[EvalItem],
    pipeline: TriagePipeline,
    counter: TokenCounter,
    *,
    show_progress: bool = True,
) -> tuple[list[ItemResult], dict[str, Passage]]:
    # Load the embedding and language models before the first task is timed.
    pipeline.retriever.embeddings.embed_query("warm-up")
    pipeline.language.detect("warm-up message for the language model")
    observations: list[ItemResult] = []
    passages: dict[str, Passage] = {}
    with item_progress("mtrag", len(items), enabled=show_progress) as advance:
        for item in items:
            observation, hits = collect_task(item, pipeline, counter)
            observations.append(observation)
            passages.update({h.chunk_id: Passage(h.doc_id, h.text) for h in hits})
            advance()
    return observations, passages
