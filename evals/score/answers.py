"""Answer-quality metrics: ragas' offline (non-LLM) metrics, an LLM-judged set, and two
check of our own (citation validity).

ragas 0.4.3 notes, from reading its source:

* Offline metrics are the legacy single-turn classes scored one sample at a time with
  `await metric.single_turn_ascore(SingleTurnSample(...))`; they need neither an LLM nor
  the network.  `ragas.evaluate()` also runs them offline but is deprecated in 0.4.3
  (it raises a DeprecationWarning) and insists every sample has every metric's columns,
  so we do not use it.  The classes are only exported from `ragas.metrics` through a
  deprecation shim; the new `ragas.metrics.collections` has no non-LLM context
  precision/recall, and its LLM metrics accept only instructor-based LLMs, not LangChain
  models.
* Every score call queues a usage event for ragas' telemetry, which the library reads
  once from RAGAS_DO_NOT_TRACK (an lru_cache); the CLI sets that variable from settings
  and `disable_ragas_tracking()` clears the cache before anything is scored.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)

OFFLINE_METRICS = (
    "string_similarity",
    "rouge_l",
    "bleu",
    "chrf",
    "context_precision_nonllm",
    "context_recall_nonllm",
)
LLM_METRICS = ("faithfulness", "answer_relevancy", "llm_context_precision")


@dataclass(frozen=True)
class AnswerSample:
    """What one evaluated draft is scored on; empty fields make dependent metrics skip."""

    id: str
    question: str
    response: str
    reference: str | None = None
    retrieved_contexts: Sequence[str] = ()
    reference_contexts: Sequence[str] = ()


@dataclass(frozen=True)
class AnswerScores:
    per_item: dict[str, dict[str, float]]  # sample id -> metric -> score
    means: dict[str, float]  # over the samples each metric could score
    counts: dict[str, int]  # samples scored per metric
    failures: dict[str, int]  # samples where the metric raised or returned NaN
    judge_model: str | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            **self.means,
            "n": dict(self.counts),
            "failed": dict(self.failures),
        }
        if self.judge_model is not None:
            out["judge_model"] = self.judge_model
        return out

    def distributions(self) -> dict[str, list[float]]:
        """Per-item scores grouped by metric, for the report's histograms."""
        grouped: dict[str, list[float]] = {}
        for scores in self.per_item.values():
            for name, value in scores.items():
                grouped.setdefault(name, []).append(value)
        return grouped


def disable_ragas_tracking() -> None:
    """Make ragas re-read its telemetry switch, even if it has already read it.

    The switch itself (RAGAS_DO_NOT_TRACK) is set from settings at CLI start-up
    (`app.settings.apply_ragas_telemetry`); only app/settings.py touches the environment.
    """
    from ragas._analytics import do_not_track

    do_not_track.cache_clear()


# --- scoring engine ----------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    name: str
    metric: Any  # a ragas SingleTurnMetric
    needs: tuple[str, ...]  # AnswerSample fields that must be non-empty to score
    # ragas asserts this field is set (or takes max() of nothing) when it is empty; an
    # empty retrieval found none of the reference passages, so the score is 0
    zero_if_empty: str | None = None


def _ragas_sample(sample: AnswerSample) -> Any:
    from ragas.dataset_schema import SingleTurnSample

    return SingleTurnSample(
        user_input=sample.question,
        response=sample.response,
        reference=sample.reference,
        retrieved_contexts=list(sample.retrieved_contexts) or None,
        reference_contexts=list(sample.reference_contexts) or None,
    )


async def _score(
    samples: Sequence[AnswerSample],
    specs: Sequence[_Spec],
    *,
    timeout: float | None,
    max_concurrency: int,
    raise_exceptions: bool,
    judge_model: str | None = None,
) -> AnswerScores:
    ids = [s.id for s in samples]
    if len(set(ids)) != len(ids):
        raise ValueError("sample ids must be unique")
    per_item: dict[str, dict[str, float]] = {s.id: {} for s in samples}
    failures = {spec.name: 0 for spec in specs}
    gate = asyncio.Semaphore(max_concurrency)

    async def one(sample: AnswerSample, spec: _Spec, ragas_sample: Any) -> None:
        if spec.zero_if_empty and not getattr(sample, spec.zero_if_empty):
            per_item[sample.id][spec.name] = 0.0
            return
        try:
            async with gate:
                value = float(await spec.metric.single_turn_ascore(ragas_sample, timeout=timeout))
        except Exception:
            if raise_exceptions:
                raise
            logger.warning("%s failed on %s", spec.name, sample.id, exc_info=True)
            failures[spec.name] += 1
            return
        if math.isnan(value):
            failures[spec.name] += 1
        else:
            # every metric here lives on [0, 1]; cosine and AP arithmetic can overshoot by 1e-16
            per_item[sample.id][spec.name] = min(max(value, 0.0), 1.0)

    tasks = []
    for sample in samples:
        ragas_sample = _ragas_sample(sample)
        for spec in specs:
            if all(getattr(sample, f) for f in spec.needs):
                tasks.append(one(sample, spec, ragas_sample))
    await asyncio.gather(*tasks)

    counts = {spec.name: 0 for spec in specs}
    sums = {spec.name: 0.0 for spec in specs}
    for scores in per_item.values():
        for name, value in scores.items():
            counts[name] += 1
            sums[name] += value
    means = {name: sums[name] / counts[name] for name in counts if counts[name]}
    return AnswerScores(per_item, means, counts, failures, judge_model)


def _import_legacy_metrics() -> SimpleNamespace:
    # The single-turn classes are public only through ragas.metrics' deprecation shim in
    # 0.4.3; silence exactly that notice, nothing else.
    import ragas.metrics as legacy

    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message=r"Importing \w+ from 'ragas\.metrics' is deprecated",
            category=DeprecationWarning,
        )
        names = (
            "NonLLMStringSimilarity",
            "RougeScore",
            "BleuScore",
            "ChrfScore",
            "NonLLMContextPrecisionWithReference",
            "NonLLMContextRecall",
            "Faithfulness",
            "ResponseRelevancy",
            "LLMContextPrecisionWithReference",
        )
        return SimpleNamespace(**{n: getattr(legacy, n) for n in names})


# --- offline metrics ---------------------------------------------------------


def _offline_specs() -> list[_Spec]:
    m = _import_legacy_metrics()
    text = ("reference",)
    return [
        _Spec("string_similarity", m.NonLLMStringSimilarity(), text),  # 1 - normalised Levenshtein
        _Spec("rouge_l", m.RougeScore(rouge_type="rougeL", mode="fmeasure"), text),
        _Spec("bleu", m.BleuScore(), text),
        _Spec("chrf", m.ChrfScore(), text),
        _Spec(
            "context_precision_nonllm",
            m.NonLLMContextPrecisionWithReference(),
            ("reference_contexts",),
            zero_if_empty="retrieved_contexts",
        ),
        _Spec(
            "context_recall_nonllm",
            m.NonLLMContextRecall(),
            ("reference_contexts",),
            zero_if_empty="retrieved_contexts",
        ),
    ]


async def ascore_offline(
    samples: Sequence[AnswerSample], *, raise_exceptions: bool = True
) -> AnswerScores:
    """Score drafts against reference answers and passages with ragas' non-LLM metrics.

    Text metrics need `reference`; the context metrics need `reference_contexts` and
    compare them with `retrieved_contexts` by string similarity (threshold 0.5).
    """
    disable_ragas_tracking()
    return await _score(
        samples,
        _offline_specs(),
        timeout=None,
        max_concurrency=1,  # CPU-bound; concurrency would only interleave
        raise_exceptions=raise_exceptions,
    )


def score_offline(
    samples: Sequence[AnswerSample], *, raise_exceptions: bool = True
) -> AnswerScores:
    """Synchronous `ascore_offline`, for callers without a running event loop."""
    return asyncio.run(ascore_offline(samples, raise_exceptions=raise_exceptions))


# --- LLM-judged metrics ------------------------------------------------------


def model_name(chat_model: BaseChatModel) -> str:
    """The name the judge reports itself by (ChatOpenAI: `model_name`)."""
    for attr in ("model_name", "model", "model_id"):
        value = getattr(chat_model, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(chat_model).__name__


def _llm_specs(
    chat_model: BaseChatModel, embeddings: Embeddings, *, timeout: float, max_retries: int
) -> list[_Spec]:
    from ragas.embeddings.base import LangchainEmbeddingsWrapper
    from ragas.llms.base import LangchainLLMWrapper
    from ragas.run_config import RunConfig

    m = _import_legacy_metrics()
    run_config = RunConfig(timeout=math.ceil(timeout), max_retries=max_retries)

    def wrap(model: BaseChatModel) -> Any:
        # bypass_n: ask for n samples as n prompts, which every OpenAI-compatible server
        # supports, instead of setting `n` (which the wrapper also never resets).
        return LangchainLLMWrapper(model, run_config=run_config, bypass_n=True)

    with warnings.catch_warnings():
        # The LangChain wrappers are deprecated in favour of llm_factory(), which takes an
        # OpenAI client rather than a LangChain model; they still work in 0.4.3.
        warnings.filterwarnings(
            "ignore",
            message=r"Langchain(LLM|Embeddings)Wrapper is deprecated",
            category=DeprecationWarning,
        )
        # The wrapper rewrites the model's temperature around each call; a copy per metric
        # keeps that away from the caller's model and from concurrent calls of other metrics.
        specs = [
            _Spec(
                "faithfulness",
                m.Faithfulness(llm=wrap(chat_model.model_copy())),
                ("response", "retrieved_contexts"),
            ),
            _Spec(
                "answer_relevancy",
                m.ResponseRelevancy(
                    llm=wrap(chat_model.model_copy()),
                    embeddings=LangchainEmbeddingsWrapper(embeddings, run_config=run_config),
                ),
                ("question", "response"),
            ),
            _Spec(
                "llm_context_precision",
                m.LLMContextPrecisionWithReference(llm=wrap(chat_model.model_copy())),
                ("question", "retrieved_contexts", "reference"),
            ),
        ]
    for spec in specs:
        spec.metric.init(run_config)
    return specs


async def ascore_llm_judged(
    samples: Sequence[AnswerSample],
    *,
    chat_model: BaseChatModel,
    embeddings: Embeddings,
    judge_model: str | None = None,
    timeout: float = 120.0,
    max_retries: int = 2,
    max_concurrency: int = 4,
    raise_exceptions: bool = False,
) -> AnswerScores:
    """Faithfulness, answer relevancy and LLM context precision, judged by `chat_model`.

    `embeddings` serve answer relevancy (similarity of questions regenerated from the
    draft to the real one).  The judge's name is recorded in `AnswerScores.judge_model`
    (`judge_model` overrides what the model reports).  Failed judgements (unparseable
    output, timeouts) are counted in `failures` instead of aborting the run unless
    `raise_exceptions` is set.
    """
    disable_ragas_tracking()
    specs = _llm_specs(chat_model, embeddings, timeout=timeout, max_retries=max_retries)
    return await _score(
        samples,
        specs,
        timeout=timeout,
        max_concurrency=max_concurrency,
        raise_exceptions=raise_exceptions,
        judge_model=judge_model or model_name(chat_model),
    )


# --- our own checks ----------------------------------------------------------


class CitationLike(Protocol):
    @property
    def chunk_id(self) -> str: ...

    @property
    def quote(self) -> str: ...


_WS = re.compile(r"\s+")


def _normalise(text: str) -> str:
    return _WS.sub(" ", text).strip()


def _field(citation: CitationLike | Mapping[str, Any], name: str) -> str:
    value = citation.get(name) if isinstance(citation, Mapping) else getattr(citation, name, None)
    return value if isinstance(value, str) else ""


def citation_validity(
    citations: Iterable[CitationLike | Mapping[str, Any]],
    contexts_by_chunk_id: Mapping[str, str],
) -> float:
    """Fraction of citations whose quote really occurs in the chunk they cite.

    Comparison is after collapsing whitespace runs (chunking and Markdown rendering
    re-wrap lines).  A citation of an unknown chunk or with an empty quote is invalid.
    With no citations at all the result is 1.0, as nothing cited is wrong; whether a
    draft cites at all is a separate measure.
    """
    verdicts = []
    for citation in citations:
        quote = _normalise(_field(citation, "quote"))
        chunk = contexts_by_chunk_id.get(_field(citation, "chunk_id"))
        verdicts.append(bool(quote) and chunk is not None and quote in _normalise(chunk))
    return sum(verdicts) / len(verdicts) if verdicts else 1.0
