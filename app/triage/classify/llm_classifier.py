"""LLM classification against the taxonomy; the pipeline falls back to the offline
classifier on `LLMClassificationError`.

The category is constrained twice: the JSON schema sent to the model enumerates the
taxonomy's names, and the answer is checked again here, because not every
OpenAI-compatible server enforces the schema.  A reply that copies the prompt's format
(a placeholder reason such as "short explanation") is rejected as `placeholder_echo`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field

from app.triage.classify.taxonomy import Priority, Taxonomy
from app.triage.echoes import EchoDetector
from app.triage.llm.client import build_chat_model
from app.triage.llm.config import LLMConfig
from app.triage.llm.structured import StructuredCaller, StructuredCallFailed, describe_failure
from app.triage.llm.token_count import TokenCounter
from app.triage.prompts import LANGUAGE_NAMES, PromptTemplate, load_prompt, neutralise
from app.triage.results import Sentiment

__all__ = ["LLMClassification", "LLMClassificationError", "LLMClassifier"]

PROMPT_NAME = "classify"
_EXAMPLES_PER_CATEGORY = 2
# The opening of a message decides its category; a pasted 20k-character log does not help.
_MAX_INPUT_TOKENS = 2000
_LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
_CODES_BY_NAME = {name.casefold(): code for code, name in LANGUAGE_NAMES.items()}


class LLMClassificationError(RuntimeError):
    """The LLM could not classify the message; `reason` is a short code, `mode` the
    structured-output mode of the last request (None when none was sent)."""

    def __init__(self, reason: str, detail: str = "", *, mode: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.mode = mode


class LLMClassification(BaseModel):
    category: str
    confidence: float = Field(ge=0.0, le=1.0)
    priority: Priority | None = None
    language: str | None = None
    sentiment: Sentiment | None = None
    reason: str = ""
    model: str | None = None
    prompt_id: str | None = None
    prompt_version: str | None = None
    structured_mode: str | None = None


class _ClassifierOutput(BaseModel):
    """The wire schema; `category` gets the taxonomy's names as an enum at runtime."""

    model_config = ConfigDict(extra="forbid")

    category: str
    confidence: float = Field(ge=0.0, le=1.0)
    priority: Priority | None
    language: str | None
    sentiment: Sentiment | None
    reason: str | None


def _normalise_language(value: str | None) -> str | None:
    if not value:
        return None
    text = value.strip().casefold()
    if text in _CODES_BY_NAME:
        return _CODES_BY_NAME[text]
    code = text.split("-")[0].split("_")[0]
    return code if _LANGUAGE_CODE.match(code) else None


def render_categories(taxonomy: Taxonomy) -> str:
    blocks = []
    for name, category in taxonomy.categories.items():
        examples = "\n".join(
            f"  - example: {example}" for example in category.examples[:_EXAMPLES_PER_CATEGORY]
        )
        blocks.append(
            f"- `{name}` (default priority {category.default_priority}): "
            f"{category.description}\n{examples}"
        )
    return "\n".join(blocks)


class LLMClassifier:
    name = "llm"

    def __init__(
        self,
        config: LLMConfig,
        taxonomy: Taxonomy,
        *,
        chat_model: BaseChatModel | None = None,
        prompts_dir: Path | None = None,
    ) -> None:
        """`config` is the classifier's own endpoint config: its model and output cap."""
        self._config = config
        self._taxonomy = taxonomy
        self._chat_model = chat_model
        self.model_name = str(getattr(chat_model, "model_name", None) or config.model)
        self.template: PromptTemplate = load_prompt(PROMPT_NAME, prompts_dir)
        self._counter = TokenCounter(self.model_name, config.token_cache_dir)
        self._categories = render_categories(taxonomy)
        names = taxonomy.names

        def constrain(schema: dict[str, Any]) -> None:
            schema["properties"]["category"]["enum"] = names

        self._caller = StructuredCaller(
            _ClassifierOutput,
            name="classification",
            adjust=constrain,
            retries=config.max_retries,
            deadline_seconds=config.timeout_seconds,
        )
        self._echoes = EchoDetector(self._caller.json_schema)

    def _model(self) -> BaseChatModel:
        if self._chat_model is None:
            self._chat_model = build_chat_model(
                self._config, model=self.model_name, max_tokens=self._config.max_tokens
            )
        return self._chat_model

    def classify(self, text: str) -> LLMClassification:
        try:
            messages = self.template.render(
                categories=self._categories,
                fallback=self._taxonomy.fallback_category,
                text=neutralise(self._counter.truncate(text, _MAX_INPUT_TOKENS)),
            )
            reply = self._caller.invoke(self._model(), messages)
        except Exception as exc:  # the caller needs one exception type to fall back on
            mode = exc.mode if isinstance(exc, StructuredCallFailed) else None
            raise LLMClassificationError(describe_failure(exc), mode=mode) from exc
        output = reply.parsed
        if output.category not in self._taxonomy.categories:
            raise LLMClassificationError(
                "invalid_category",
                f"{output.category[:80]!r} is not in the taxonomy",
                mode=reply.mode,
            )
        if self._echoes.copies_classification_example(output.reason):
            raise LLMClassificationError("placeholder_echo", mode=reply.mode)
        return LLMClassification(
            category=output.category,
            confidence=output.confidence,
            priority=output.priority,
            language=_normalise_language(output.language),
            sentiment=output.sentiment,
            reason=(output.reason or "").strip(),
            model=self.model_name,
            prompt_id=self.template.id,
            prompt_version=self.template.version,
            structured_mode=reply.mode,
        )
