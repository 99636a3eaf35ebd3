from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from app.settings import Settings, apply_ragas_telemetry
from evals.score.answers import (
    LLM_METRICS,
    OFFLINE_METRICS,
    AnswerSample,
    ascore_llm_judged,
    citation_validity,
    score_offline,
)

REF = "Grid supports USDC payouts to Mexico through the SPEI rail."
PASSAGE = "Payouts in Mexico settle over SPEI; USDC can be used as the funding currency."
OTHER = "Sandbox API keys are created in the dashboard under Developers."


# --- offline ragas metrics ---------------------------------------------------------


@pytest.fixture(scope="module")
def offline() -> Any:
    samples = [
        AnswerSample("same", "q", REF, REF, [OTHER, PASSAGE], [PASSAGE]),
        AnswerSample("unrelated", "q", "zzz qqq", REF, [], [PASSAGE]),
        AnswerSample("no-reference", "q", "anything", None),
    ]
    return score_offline(samples)


def test_identical_answer_scores_one_on_text_metrics(offline: Any) -> None:
    same = offline.per_item["same"]

    for name in ("string_similarity", "rouge_l", "bleu", "chrf"):
        assert same[name] == pytest.approx(1.0), name


def test_context_metrics_use_rank_and_coverage(offline: Any) -> None:
    same = offline.per_item["same"]

    # the only relevant retrieved passage sits at rank 2: average precision 1/2
    assert same["context_precision_nonllm"] == pytest.approx(0.5)
    assert same["context_recall_nonllm"] == 1.0
    # nothing retrieved: nothing found (ragas itself would crash on this)
    assert offline.per_item["unrelated"]["context_recall_nonllm"] == 0.0
    assert offline.per_item["unrelated"]["context_precision_nonllm"] == 0.0


def test_unrelated_answer_scores_low(offline: Any) -> None:
    unrelated = offline.per_item["unrelated"]

    assert unrelated["rouge_l"] == 0.0
    assert unrelated["bleu"] == 0.0
    assert unrelated["string_similarity"] < 0.2


def test_metrics_without_inputs_are_skipped_not_zeroed(offline: Any) -> None:
    assert offline.per_item["no-reference"] == {}
    assert offline.counts == dict.fromkeys(OFFLINE_METRICS, 2)
    assert offline.means["rouge_l"] == pytest.approx(0.5)
    assert offline.as_dict()["n"] == offline.counts
    assert sorted(offline.distributions()["bleu"]) == pytest.approx([0.0, 1.0])


def test_settings_turn_ragas_telemetry_off_before_scoring(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ragas._analytics import do_not_track

    monkeypatch.delenv("RAGAS_DO_NOT_TRACK", raising=False)
    do_not_track.cache_clear()
    assert do_not_track() is False  # ragas' own default: tracking on
    apply_ragas_telemetry(Settings())
    assert os.environ["RAGAS_DO_NOT_TRACK"] == "true"
    # ragas has cached its first reading; scoring makes it read the switch again
    score_offline([AnswerSample("a", "q", "draft", "reference")])
    assert do_not_track() is True


def test_duplicate_sample_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="unique"):
        score_offline([AnswerSample("x", "q", "a", "b"), AnswerSample("x", "q", "a", "b")])


# --- LLM-judged metrics, wired to an in-process fake judge -------------------------


class ScriptedJudge(BaseChatModel):
    """Answers each ragas prompt with a fixed verdict, chosen by the prompt's instruction."""

    model_name: str = "scripted-judge"
    temperature: float = 0.7
    garbage: bool = False

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **_: Any,
    ) -> ChatResult:
        prompt = "\n".join(str(m.content) for m in messages)
        if self.garbage:
            reply: object = "not json"
        elif "Break down each sentence" in prompt:
            reply = {"statements": ["USDC payouts are supported.", "Grid is a bank."]}
        elif "judge the faithfulness" in prompt:
            reply = {
                "statements": [
                    {"statement": "USDC payouts are supported.", "reason": "stated", "verdict": 1},
                    {"statement": "Grid is a bank.", "reason": "not stated", "verdict": 0},
                ]
            }
        elif "Generate a question for the given answer" in prompt:
            reply = {"question": "Does Grid support USDC payouts?", "noncommittal": 0}
        elif "verify if the context was useful" in prompt:
            reply = {"reason": "it answers the question", "verdict": 1}
        else:
            raise AssertionError(f"unexpected prompt: {prompt[:200]}")
        content = reply if isinstance(reply, str) else json.dumps(reply)
        message = AIMessage(content=content, response_metadata={"finish_reason": "stop"})
        return ChatResult(generations=[ChatGeneration(message=message)])


JUDGED = AnswerSample(
    "j1",
    "Does Grid support USDC payouts?",
    "USDC payouts are supported. Grid is a bank.",
    reference=REF,
    retrieved_contexts=[PASSAGE],
)


def test_llm_judged_metrics_run_through_a_langchain_model() -> None:
    judge = ScriptedJudge()

    scores = asyncio.run(
        ascore_llm_judged(
            [JUDGED, AnswerSample("empty", "q", "")],
            chat_model=judge,
            embeddings=DeterministicFakeEmbedding(size=8),
            raise_exceptions=True,
        )
    )

    assert scores.judge_model == "scripted-judge"
    assert scores.per_item["j1"]["faithfulness"] == pytest.approx(0.5)
    assert scores.per_item["j1"]["llm_context_precision"] == pytest.approx(1.0)
    # the regenerated question equals the real one, so the embeddings coincide
    assert scores.per_item["j1"]["answer_relevancy"] == pytest.approx(1.0)
    assert set(scores.means) == set(LLM_METRICS)
    assert scores.per_item["empty"] == {}  # nothing to judge
    assert judge.temperature == 0.7  # the caller's model is left as it was


def test_llm_judge_failures_are_counted_not_raised() -> None:
    scores = asyncio.run(
        ascore_llm_judged(
            [JUDGED],
            chat_model=ScriptedJudge(garbage=True),
            embeddings=DeterministicFakeEmbedding(size=8),
            judge_model="override-name",
            max_retries=0,
        )
    )

    assert scores.judge_model == "override-name"
    assert scores.means == {}
    assert scores.failures == dict.fromkeys(LLM_METRICS, 1)


# --- citation validity and redaction leaks -----------------------------------------


@dataclass(frozen=True)
class Citation:
    chunk_id: str
    quote: str


CHUNKS = {"c1": "Payouts in Mexico\n   settle over   SPEI.", "c2": "Keys live in the dashboard."}


def test_citation_validity_normalises_whitespace() -> None:
    citations: list[Citation | dict[str, str]] = [
        Citation("c1", "settle over SPEI"),  # present once whitespace is collapsed
        {"chunk_id": "c2", "quote": " Keys live\nin the dashboard. "},  # mappings work too
        Citation("c2", "settle over SPEI"),  # real quote, wrong chunk
        Citation("c9", "anything"),  # unknown chunk
        Citation("c1", "   "),  # empty quote proves nothing
    ]

    assert citation_validity(citations, CHUNKS) == pytest.approx(2 / 5)


def test_citation_validity_edge_cases() -> None:
    assert citation_validity([], CHUNKS) == 1.0
    assert citation_validity([Citation("c1", "Payouts in Mexico settle over SPEI.")], CHUNKS) == 1.0
    assert citation_validity([{"chunk_id": "c1"}], CHUNKS) == 0.0
