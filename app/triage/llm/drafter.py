"""The LLM drafter: a grounded, cited reply, or a clean handoff to a human.

The model gets the `draft_reply` prompt with the retrieved chunks (trimmed to a token
budget) fenced off as untrusted data, and must return a `DraftOutput`.  Its citations are
checked against the chunks it was shown; an answer with none left is unsupported and goes
to a human.  `DraftOutput` has no field through which the model could request an action,
and a message flagged as a prompt injection always gets a human, whatever the model says.

`draft()` never raises: any failure (blocked endpoint, timeout, HTTP error, malformed or
invalid output) becomes a holding reply with `needs_human=True` and the error recorded.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel, ConfigDict, Field

from app.settings import Settings
from app.triage.drafting.base import DraftRequest
from app.triage.drafting.citations import ProposedCitation, validate_citations
from app.triage.llm.client import build_chat_model
from app.triage.llm.context import (
    SelectedContext,
    language_name,
    render_history,
    render_json,
    render_triage,
    select_documents,
)
from app.triage.llm.structured import (
    StructuredReply,
    describe_failure,
    invoke_structured,
    response_format_for,
)
from app.triage.llm.tokens import TokenCounter
from app.triage.models import DraftReply, Provenance
from app.triage.prompts import PromptTemplate, load_prompt

__all__ = ["DraftOutput", "LLMDrafter", "holding_reply"]

logger = logging.getLogger(__name__)

PROMPT_NAME = "draft_reply"
INJECTION_FLAG = "prompt_injection"
# An ungrounded answer must never look confident to a downstream auto-send threshold.
_UNSUPPORTED_CONFIDENCE_CAP = 0.2
_MAX_MODEL_REASON_CHARS = 200

_HOLDING_REPLIES = {
    "en": "Thanks for reaching out — a member of our team will follow up shortly.",
    "es": "Gracias por escribirnos — una persona de nuestro equipo te responderá en breve.",
    "pt": "Obrigado pelo contato — uma pessoa da nossa equipe responderá em breve.",
    "fr": "Merci de nous avoir contactés — un membre de notre équipe vous répondra sous peu.",
    "de": "Danke für Ihre Nachricht — jemand aus unserem Team meldet sich in Kürze.",
    "it": "Grazie per averci scritto — un membro del nostro team ti risponderà a breve.",
}


def holding_reply(language: str) -> str:
    return _HOLDING_REPLIES.get(language.lower().split("-")[0], _HOLDING_REPLIES["en"])


class DraftOutput(BaseModel):
    """What the model must return; deliberately no field that could express an action."""

    model_config = ConfigDict(extra="forbid")

    answer: str = Field(description="The reply to the customer, in Markdown.")
    citations: list[ProposedCitation] = Field(
        description="Supporting quotes, each copied verbatim from the doc with that id."
    )
    confidence: float = Field(ge=0.0, le=1.0)
    needs_human: bool
    reason: str | None = Field(description="Why a human is needed; null otherwise.")


class LLMDrafter:
    name = "llm"

    def __init__(
        self,
        settings: Settings,
        *,
        chat_model: BaseChatModel | None = None,
        prompts_dir: Path | None = None,
    ) -> None:
        self._settings = settings
        # Built lazily from settings when not given, so a blocked or unconfigured endpoint
        # turns into a handoff at draft time instead of an error at start-up.
        self._chat_model = chat_model
        self.model_name = str(getattr(chat_model, "model_name", None) or settings.llm_model)
        self.template: PromptTemplate = load_prompt(PROMPT_NAME, prompts_dir)
        self._counter = TokenCounter(self.model_name)
        self._response_format = response_format_for(DraftOutput, name="draft_reply")

    def _model(self) -> BaseChatModel:
        if self._chat_model is None:
            self._chat_model = build_chat_model(self._settings)
        return self._chat_model

    def draft(self, request: DraftRequest) -> DraftReply:
        started = time.perf_counter()
        context = select_documents(request.hits, self._counter, self._settings.llm_context_tokens)
        if context.dropped:
            logger.info("draft context trimmed: %d lower-ranked chunks dropped", context.dropped)
        try:
            messages = self._render(request, context)
            reply = invoke_structured(
                self._model(), messages, DraftOutput, response_format=self._response_format
            )
        except Exception as exc:  # every failure is a handoff; the caller never sees it
            return self._handoff(request, context, exc, started)
        return self._finish(request, context, messages, reply, started)

    def _render(self, request: DraftRequest, context: SelectedContext) -> list[BaseMessage]:
        return self.template.render(
            language=language_name(request.language),
            triage=render_triage(request.triage),
            signals=render_json(request.signals),
            documents=context.text,
            history=render_history(request.history),
            question=request.question,
        )

    def _provenance(self, context: SelectedContext, started: float) -> Provenance:
        return Provenance(
            drafter="llm",
            model=self.model_name,
            prompt_id=self.template.id,
            prompt_version=self.template.version,
            prompt_hash=self.template.hash,
            retrieved_chunk_ids=[hit.chunk_id for hit in context.hits],
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    def _finish(
        self,
        request: DraftRequest,
        context: SelectedContext,
        messages: list[BaseMessage],
        reply: StructuredReply[DraftOutput],
        started: float,
    ) -> DraftReply:
        output = reply.parsed
        citations, rejected = validate_citations(output.citations, context.hits)
        if rejected:
            logger.info(
                "dropped %d unsupported citation(s): %s",
                len(rejected),
                ", ".join(f"{r['chunk_id']}={r['reason']}" for r in rejected),
            )
        answer = output.answer.strip()
        confidence = output.confidence
        reasons: list[str] = []
        if any(flag.startswith(INJECTION_FLAG) for flag in request.triage.flags):
            reasons.append(INJECTION_FLAG)
        if not answer:
            reasons.append("empty_answer")
        elif not citations:
            reasons.append("unsupported_answer")
        if not answer or not citations:
            confidence = min(confidence, _UNSUPPORTED_CONFIDENCE_CAP)
        if output.needs_human:
            detail = (output.reason or "").strip()[:_MAX_MODEL_REASON_CHARS]
            reasons.append(
                f"model_requested_handoff: {detail}" if detail else "model_requested_handoff"
            )

        provenance = self._provenance(context, started)
        provenance.prompt_tokens = reply.prompt_tokens
        if provenance.prompt_tokens is None:
            provenance.prompt_tokens = sum(self._counter.count(str(m.content)) for m in messages)
        provenance.completion_tokens = reply.completion_tokens
        if provenance.completion_tokens is None:
            provenance.completion_tokens = self._counter.count(reply.content)
        return DraftReply(
            text=answer or holding_reply(request.language),
            citations=citations,
            confidence=confidence,
            needs_human=bool(reasons),
            reason="; ".join(reasons) or None,
            language=request.language,
            provenance=provenance,
        )

    def _handoff(
        self, request: DraftRequest, context: SelectedContext, exc: Exception, started: float
    ) -> DraftReply:
        short = describe_failure(exc)
        if short.startswith("unexpected_error"):
            logger.exception("LLM draft failed unexpectedly; handing off")
        else:
            logger.warning("LLM draft failed (%s); handing off", short)
        provenance = self._provenance(context, started)
        provenance.drafter = "handoff"
        provenance.error = f"{short}: {exc}"[:300]
        return DraftReply(
            text=holding_reply(request.language),
            citations=[],
            confidence=0.0,
            needs_human=True,
            reason=f"llm_error: {short}",
            language=request.language,
            provenance=provenance,
        )
