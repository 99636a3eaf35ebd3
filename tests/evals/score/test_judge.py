"""The LLM judge: pinned model, built against the configured endpoint."""

from __future__ import annotations

from typing import Any

from evals.score.answers import AnswerSample
from evals.score.judge import build_judge, judge_model_for
from tests.fakes import FakeOpenAI, fake_openai, llm_settings

__all__ = ["fake_openai"]  # the fixture, registered for this module


def test_judge_is_pinned_and_talks_to_the_configured_endpoint(
    fake_openai: FakeOpenAI, minilm: Any
) -> None:
    settings = llm_settings(fake_openai, llm_model="drafting-model")
    assert judge_model_for(settings) == "drafting-model"
    assert judge_model_for(settings, "judge-x") == "judge-x"

    judge = build_judge(settings, minilm, "judge-x")
    sample = AnswerSample(
        "s1",
        "How do I auth?",
        "Use Basic auth.",
        reference="Basic auth.",
        retrieved_contexts=["Authenticate with HTTP Basic auth."],
    )
    scores = judge([sample])  # the fake answers 500: every judgement fails, none raises

    assert scores.judge_model == "judge-x"
    assert scores.means == {}
    assert sum(scores.failures.values()) == 3
    assert fake_openai.chat_requests
    assert {r.body["model"] for r in fake_openai.chat_requests} == {"judge-x"}
