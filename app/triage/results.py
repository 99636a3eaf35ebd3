"""Public shapes of a triage run (the `triage ask` JSON and the ticket's fields)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.triage.classify.taxonomy import Priority
from app.triage.screen.secrets import Redaction
from app.triage.screen.signals import Signals

Sentiment = Literal["negative", "neutral", "positive"]


class TriageResult(BaseModel):
    category: str
    confidence: float = Field(ge=0.0, le=1.0)
    priority: Priority
    team: str
    language: str
    sentiment: Sentiment
    flags: list[str] = Field(default_factory=list)
    classifier: str = Field(default="offline", description="Which classifier decided.")
    priority_reasons: list[str] = Field(default_factory=list)


class Citation(BaseModel):
    chunk_id: str
    doc_id: str
    source: str
    url: str | None
    quote: str
    marker: int | None = Field(
        default=None, description="The [n] in the draft text that this citation backs."
    )


class DraftChecks(BaseModel):
    """What the drafter's checks found in an LLM answer; anything listed blocks auto-send."""

    sentences_checked: int = 0
    unsupported_sentences: list[str] = Field(
        default_factory=list, description="Removed: no cited passage supports them."
    )
    unverifiable_sentences: list[str] = Field(
        default_factory=list,
        description="Kept for the reviewer: the lexical check cannot judge this language.",
    )
    unknown_api_names: list[str] = Field(
        default_factory=list,
        description="Endpoints, fields, enum values or error codes absent from the spec.",
    )
    rejected: str | None = Field(default=None, description="Why the whole answer was dropped.")

    @property
    def blocks_auto_send(self) -> bool:
        return bool(
            self.unsupported_sentences
            or self.unverifiable_sentences
            or self.unknown_api_names
            or self.rejected
        )


def recorded_checks(provenance: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The checks a stored draft's provenance holds, or None when no check ran."""
    checks = (provenance or {}).get("checks")
    return checks if isinstance(checks, dict) else None


class Provenance(BaseModel):
    drafter: Literal["offline", "llm", "handoff", "reusable"]
    reusable_answer_id: str | None = Field(
        default=None, description="The agent-approved answer served instead of a new draft."
    )
    model: str | None = None
    prompt_id: str | None = None
    prompt_version: str | None = None
    prompt_hash: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    retrieved_chunk_ids: list[str] = Field(default_factory=list)
    latency_ms: float | None = None
    error: str | None = Field(default=None, description="A short failure code, never raw text.")
    structured_mode: str | None = Field(
        default=None, description="json_schema, json_object or tool_call: how the LLM answered."
    )
    checks: DraftChecks | None = None
    answer_features: dict[str, float | str] = Field(
        default_factory=dict,
        description="What the offline drafter measured of its answer (confidence's inputs).",
    )


class DraftReply(BaseModel):
    text: str
    citations: list[Citation] = Field(default_factory=list)
    confidence: float = Field(ge=0.0, le=1.0)
    needs_human: bool
    reason: str | None = None
    language: str = "en"
    provenance: Provenance


class AskResult(BaseModel):
    triage: TriageResult
    signals: Signals
    redactions: list[Redaction]
    draft: DraftReply
    message: str = Field(description="The message as stored: secrets replaced by placeholders.")

    def public(self) -> dict[str, Any]:
        """The contract shape of `triage ask --json`."""
        return self.model_dump(mode="json")
