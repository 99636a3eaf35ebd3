"""The LLM judge for ragas' judged metrics, built only when an LLM is configured.

The judge model is pinned explicitly (`--judge-model`, else the `eval_judge_model`
setting when present, else `llm_model`) and recorded in the metrics, because judged
scores are only comparable between runs with the same judge.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from evals.score.answers import AnswerSample, AnswerScores, ascore_llm_judged
from evals.score.scoring import Judge

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from app.settings import Settings


def judge_model_for(settings: Settings, override: str | None = None) -> str:
    configured = getattr(settings, "eval_judge_model", None)
    if override:
        return override
    return configured if isinstance(configured, str) and configured else settings.llm_model


def build_judge(settings: Settings, embeddings: Embeddings, model: str) -> Judge:
    """A callable scoring samples with faithfulness, answer relevancy and LLM context
    precision; raises before any request if the endpoint is refused or unconfigured."""
    from app.services.pipelines import llm_config
    from app.triage.llm.client import build_chat_model

    chat_model = build_chat_model(llm_config(settings), model=model)

    def judge(samples: Sequence[AnswerSample]) -> AnswerScores:
        return asyncio.run(
            ascore_llm_judged(
                samples,
                chat_model=chat_model,
                embeddings=embeddings,
                judge_model=model,
                timeout=settings.llm_timeout_seconds,
                max_retries=settings.llm_max_retries,
            )
        )

    return judge
