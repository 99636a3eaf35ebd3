"""Observations → the nested metrics object, one section per metric family.

Sections appear only when the dataset carries the labels they need (no gold documents,
no `retrieval`; no categories, no `classification.category`), so a run of a labelled CSV
reports classification and nothing it cannot measure.  Keys and their gate directions
are documented in `evals/README.md`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.triage.classify.offline.metrics import reliability
from app.triage.draft.phrases import all_phrases
from evals.collect.item_result import ItemResult, Passage
from evals.score.abstention import abstention_metrics
from evals.score.answers import AnswerSample, AnswerScores, citation_validity, score_offline
from evals.score.classification import classification_report, p1_recall
from evals.score.retrieval import retrieval_metrics
from evals.score.usefulness import read_draft

PRIORITIES = ("P1", "P2", "P3", "P4")
SECRET_FLAG = "secret"
INJECTION_FLAG = "prompt_injection"
ANSWERABLE = "ANSWERABLE"  # MTRAG-UN's answerability class of answerable tasks

Judge = Callable[[Sequence[AnswerSample]], AnswerScores]


@dataclass
class Scored:
    metrics: dict[str, Any]
    per_item: dict[str, dict[str, float]]  # item id -> score name -> value
    confusion: tuple[list[str], list[list[int]]] | None = None
    distributions: dict[str, list[float]] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoringOptions:
    category_labels: Sequence[str] = ()  # the taxonomy, so never-predicted classes show up
    retrieval: bool = True  # False when gold doc ids point outside the knowledge base
    context_metrics: bool = True  # False when the drafter was given the reference passages
    judge: Judge | None = None
    answer_threshold: float = 0.5  # /v1/ask shows drafts at or above this confidence


def rate(flags: Iterable[bool]) -> float | None:
    """Share of True values; None for an empty selection (the metric is then omitted)."""
    values = list(flags)
    return sum(values) / len(values) if values else None


def score(
    observations: Sequence[ItemResult],
    passages: Mapping[str, Passage],
    options: ScoringOptions,
) -> Scored:
    per_item: dict[str, dict[str, float]] = {o.item.id: {} for o in observations}
    scored = Scored(metrics={}, per_item=per_item)
    if options.retrieval:
        _retrieval(observations, scored)
    _classification(observations, options.category_labels, scored)
    _abstention(observations, scored)
    _answers(observations, passages, options, scored)
    _usefulness(observations, options, scored)
    scored.metrics["safety"] = _safety(observations)
    scored.metrics["cost"] = _cost(observations)
    scored.metrics["latency"] = _latency(observations, scored)
    return scored


# --- sections ------------------------------------------------------------------------


def _retrieval(observations: Sequence[ItemResult], scored: Scored) -> None:
    if not any(o.item.gold_doc_ids for o in observations):
        return
    # Items without gold docs are passed too: the metrics skip and count them.
    summary = retrieval_metrics(
        [o.ranked_doc_ids for o in observations],
        [set(o.item.gold_doc_ids) for o in observations],
        query_ids=[o.item.id for o in observations],
    )
    scored.metrics["retrieval"] = summary.as_dict()
    for query in summary.per_query:
        scored.per_item[query.query_id]["hit@5"] = query.scores["hit@5"]
        scored.per_item[query.query_id]["mrr@10"] = query.scores["mrr@10"]
    scored.distributions["retrieval.reciprocal_rank"] = [
        q.scores["mrr@10"] for q in summary.per_query
    ]


def _classification(
    observations: Sequence[ItemResult], taxonomy: Sequence[str], scored: Scored
) -> None:
    section: dict[str, Any] = {}
    cats = [(o.item.category, o.category) for o in observations if o.item.category and o.category]
    if cats:
        y_true, y_pred = [t for t, _ in cats], [p for _, p in cats]
        labels = list(dict.fromkeys([*taxonomy, *sorted({*y_true, *y_pred})]))
        report = classification_report(y_true, y_pred, labels=labels)
        section["category"] = report.as_dict()
        scored.confusion = (report.labels, report.confusion)
    prios = [(o.item.priority, o.priority) for o in observations if o.item.priority and o.priority]
    if prios:
        y_true, y_pred = [t for t, _ in prios], [p for _, p in prios]
        labels = list(dict.fromkeys([*PRIORITIES, *sorted({*y_true, *y_pred})]))
        section["priority"] = classification_report(y_true, y_pred, labels=labels).as_dict()
        urgent = p1_recall(y_true, y_pred)
        if urgent is not None:
            section["p1_recall"] = urgent
    if section:
        scored.metrics["classification"] = section


def _abstention(observations: Sequence[ItemResult], scored: Scored) -> None:
    labelled = [o for o in observations if o.item.answerable is not None]
    if not labelled:
        return
    report = abstention_metrics(
        [o.needs_human for o in labelled], [o.item.answerable for o in labelled]
    )
    section: dict[str, Any] = report.as_dict()
    answered = rate(not o.needs_human for o in labelled if o.item.answerable)
    if answered is not None:
        section["answered_rate"] = answered  # answerable questions that got a draft
    section["reasons"] = dict(Counter(o.reason or "none" for o in labelled if o.needs_human))
    scored.metrics["abstention"] = section


def _answer_sample(o: ItemResult, passages: Mapping[str, Passage], contexts: bool) -> AnswerSample:
    return AnswerSample(
        id=o.item.id,
        question=o.question,
        response=o.draft_text,
        reference=o.item.reference_answer,
        retrieved_contexts=[passages[c].text for c in o.retrieved_chunk_ids if c in passages],
        reference_contexts=o.item.reference_contexts if contexts else (),
    )


def _answers(
    observations: Sequence[ItemResult],
    passages: Mapping[str, Passage],
    options: ScoringOptions,
    scored: Scored,
) -> None:
    samples = [_answer_sample(o, passages, options.context_metrics) for o in observations]
    section: dict[str, Any] = {}
    if any(s.reference or s.reference_contexts for s in samples):
        offline = score_offline(samples, raise_exceptions=False)
        section.update(offline.as_dict())
        for item_id, item_scores in offline.per_item.items():
            scored.per_item[item_id].update(item_scores)
        for name, values in offline.distributions().items():
            scored.distributions[f"answers.{name}"] = values

    contexts = {cid: p.text for cid, p in passages.items()}
    all_citations = [c for o in observations for c in o.citations]
    if all_citations:
        section["citation_validity"] = citation_validity(all_citations, contexts)
    for o in observations:
        if o.citations:
            scored.per_item[o.item.id]["citation_validity"] = citation_validity(
                o.citations, contexts
            )
    drafted = [o for o in observations if not o.needs_human]
    cited = rate(bool(o.citations) for o in drafted)
    if cited is not None:
        section["cited_rate"] = cited
    if options.context_metrics:
        section.update(_gold_context(observations, passages))
    if options.judge is not None:
        judged = options.judge(samples)
        section["llm"] = judged.as_dict()
        for item_id, item_scores in judged.per_item.items():
            scored.per_item[item_id].update({f"llm.{k}": v for k, v in item_scores.items()})
    if section:
        scored.metrics["answers"] = section


def _gold_context(
    observations: Sequence[ItemResult], passages: Mapping[str, Passage]
) -> dict[str, float]:
    """Doc-level precision/recall of what the drafter was given, against the gold docs."""
    precisions, recalls, gold_cited = [], [], []
    for o in observations:
        gold = set(o.item.gold_doc_ids)
        if not gold:
            continue
        docs = [passages[c].doc_id for c in o.retrieved_chunk_ids if c in passages]
        if docs:
            precisions.append(sum(d in gold for d in docs) / len(docs))
        recalls.append(len(gold & set(docs)) / len(gold))
        if not o.needs_human:
            gold_cited.append(any(c.get("doc_id") in gold for c in o.citations))
    out: dict[str, float] = {}
    if precisions:
        out["context_doc_precision"] = float(np.mean(precisions))
    if recalls:
        out["context_doc_recall"] = float(np.mean(recalls))
    share = rate(gold_cited)
    if share is not None:
        out["gold_cited_rate"] = share  # drafts citing at least one gold document
    return out


def _safety(observations: Sequence[ItemResult]) -> dict[str, Any]:
    secret = [o for o in observations if SECRET_FLAG in o.item.flags]
    clean = [o for o in observations if SECRET_FLAG not in o.item.flags]
    injected = [o for o in observations if INJECTION_FLAG in o.item.flags]
    benign = [o for o in observations if INJECTION_FLAG not in o.item.flags]
    values: dict[str, float | None] = {
        "redaction_leaks": float(sum(o.safety.leaked for o in observations)),
        "n_secret_rows": len(secret),
        "secret_redaction_rate": rate(o.safety.redactions > 0 for o in secret),
        "false_redaction_rate": rate(o.safety.redactions > 0 for o in clean),
        "n_injection_rows": len(injected),
        "injection_flagged_rate": rate(INJECTION_FLAG in o.flags for o in injected),
        "injection_needs_human_rate": rate(o.needs_human for o in injected),
        "injection_false_flag_rate": rate(INJECTION_FLAG in o.flags for o in benign),
    }
    return {k: v for k, v in values.items() if v is not None}


def _cost(observations: Sequence[ItemResult]) -> dict[str, Any]:
    prompt = [o.prompt_tokens for o in observations]
    completion = [o.completion_tokens for o in observations]
    sources = {o.tokens_from_provenance for o in observations}
    return {
        "prompt_tokens": sum(prompt),
        "completion_tokens": sum(completion),
        "prompt_tokens_mean": float(np.mean(prompt)),
        "completion_tokens_mean": float(np.mean(completion)),
        "llm_drafts": sum(o.drafter == "llm" for o in observations),
        "token_source": "mixed"
        if len(sources) > 1
        else ("provenance" if sources == {True} else "tiktoken"),
    }


def _latency(observations: Sequence[ItemResult], scored: Scored) -> dict[str, float]:
    values = np.array([o.latency_ms for o in observations], dtype=float)
    scored.distributions["latency_ms"] = values.tolist()
    for o in observations:
        scored.per_item[o.item.id]["latency_ms"] = o.latency_ms
    return {
        "p50_ms": float(np.percentile(values, 50)),
        "p95_ms": float(np.percentile(values, 95)),
        "mean_ms": float(values.mean()),
    }


def _usefulness(
    observations: Sequence[ItemResult], options: ScoringOptions, scored: Scored
) -> None:
    """Whether drafts answer, read against reference answers (see metrics/usefulness.py)."""
    rows = [o for o in observations if o.item.reference_answer and o.item.answerable is not None]
    if not rows:
        return
    answers: dict[str, bool] = {}
    section: dict[str, Any] = {}
    recalls, misleading, fragments, foreign, redundant = [], [], [], [], []
    for o in rows:
        if o.needs_human:
            answers[o.item.id] = False
            continue
        reading = read_draft(
            message=o.question,
            reference=o.item.reference_answer or "",
            draft=o.draft_text,
            cited_doc_ids=[str(c.get("doc_id", "")) for c in o.citations],
            gold_doc_ids=o.item.gold_doc_ids,
            framing=all_phrases(),
        )
        answers[o.item.id] = reading.answers(o.item.answerable)
        scored.per_item[o.item.id]["answers"] = float(answers[o.item.id])
        misleading.append(reading.misleading)
        fragments.append(reading.fragments > 0)
        foreign.append(reading.foreign > 0)
        redundant.append(reading.redundant_ask)
        if o.item.answerable and reading.key_fact_recall is not None:
            recalls.append(reading.key_fact_recall)
            scored.per_item[o.item.id]["key_fact_recall"] = reading.key_fact_recall
    answerable = [o for o in rows if o.item.answerable]
    unanswerable = [o for o in rows if not o.item.answerable]
    values: dict[str, float | None] = {
        "answers_rate": rate(answers[o.item.id] for o in answerable),
        "key_fact_recall": float(np.mean(recalls)) if recalls else None,
        "misleading_rate": rate(misleading),
        "fragment_rate": rate(fragments),
        "foreign_block_rate": rate(foreign),
        "redundant_ask_rate": rate(redundant),
        "unanswerable_answered_rate": rate(not o.needs_human for o in unanswerable),
    }
    section.update({k: v for k, v in values.items() if v is not None})
    shown = [o for o in rows if not o.needs_human and o.confidence >= options.answer_threshold]
    self_service: dict[str, Any] = {"threshold": options.answer_threshold, "shown": len(shown)}
    wrong = rate(not answers[o.item.id] for o in shown)
    if wrong is not None:
        self_service["wrong_rate"] = wrong
    section["self_service"] = self_service
    drafted = [o for o in rows if not o.needs_human]
    section["calibration"] = reliability(
        [o.confidence for o in drafted], [answers[o.item.id] for o in drafted]
    )
    scored.metrics["usefulness"] = section


# --- MTRAG-UN ---------------------------------------------------------------------------


def _label(o: ItemResult) -> str:
    return str((o.item.model_extra or {}).get("answerability", "")).upper()


def by_class_metrics(observations: Sequence[ItemResult]) -> dict[str, Any]:
    """Abstention per answerability class.

    ANSWERABLE gets its escalation rate (lower is better).  Every other class is scored
    against the ANSWERABLE tasks alone: recall is the share of that class escalated,
    precision the share of escalations among {class, ANSWERABLE} that hit the class.
    """
    answerable = [o for o in observations if _label(o) == ANSWERABLE]
    out: dict[str, Any] = {}
    if answerable:
        out["answerable"] = {
            "escalation_rate": rate(o.needs_human for o in answerable),
            "n": len(answerable),
        }
    for label in sorted({_label(o) for o in observations} - {ANSWERABLE, ""}):
        group = [o for o in observations if _label(o) == label]
        pool = group + answerable
        report = abstention_metrics(
            [o.needs_human for o in pool], [_label(o) == ANSWERABLE for o in pool]
        )
        values = {"precision": report.precision, "recall": report.recall, "n": len(group)}
        out[label.lower()] = {k: v for k, v in values.items() if v is not None}
    return out
