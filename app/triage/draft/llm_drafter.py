"""The LLM drafter: a grounded, cited reply, or a clean handoff to a human.

The model gets the `draft_reply` prompt with the retrieved chunks (trimmed to a token
budget) fenced off as untrusted data, and must return a `DraftOutput`.  Its citations are
checked against the chunks it was shown; an answer with none left is unsupported and goes
to a human.  `DraftOutput` has no field through which the model could request an action,
and a message flagged as a prompt injection always gets a human, whatever the model says.

Then the answer itself is checked, claim by claim (`verify`): a sentence its cited
passage does not support is removed, and API names the OpenAPI specs do not have are
listed (`api_names`); either keeps the draft from being sent without a person.  A schema
echo ("Markdown reply to the customer") is no answer at all and becomes a handoff.

`draft()` never raises: any failure (blocked endpoint, timeout, HTTP error, malformed or
invalid output) becomes a holding reply with `needs_human=True` and the error recorded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel, ConfigDict, Field

from app.triage.draft.api_names import ApiIndex, load_api_index
from app.triage.draft.citations import ProposedCitation, validate_citations
from app.triage.draft.claims import check_claims
from app.triage.draft.context import (
    SelectedContext,
    render_history,
    render_json,
    render_triage,
    select_documents,
)
from app.triage.draft.phrases import holding_reply
from app.triage.draft.protocol import DraftRequest
from app.triage.echoes import EchoDetector
from app.triage.llm.client import build_chat_model
from app.triage.llm.config import LLMConfig
from app.triage.llm.structured import (
    StructuredCaller,
    StructuredCallFailed,
    StructuredReply,
    describe_failure,
)
from app.triage.llm.token_count import TokenCounter
from app.triage.prompts import PromptTemplate, language_name, load_prompt
from app.triage.results import DraftChecks, DraftReply, Provenance

__all__ = ["DraftOutput", "LLMDrafter"]

logger = logging.getLogger(__name__)

PROMPT_NAME = "draft_reply"
INJECTION_FLAG = "prompt_injection"
SCHEMA_ECHO = "schema_echo"
# The lexical support check compares words, so it needs the docs' language.
_DOCS_LANGUAGE = "en"
# An ungrounded answer must never look confident to a downstream auto-send threshold.
_UNSUPPORTED_CONFIDENCE_CAP = 0.2
_MAX_MODEL_REASON_CHARS = 200


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
        config: LLMConfig,
        *,
        context_tokens: int,
        openapi_specs: Sequence[Path] = (),
        chat_model: BaseChatModel | None = None,
        prompts_dir: Path | None = None,
    ) -> None:
        self._config = config
        self._context_tokens = context_tokens
        self._openapi_specs = list(openapi_specs)
        # Built lazily from the config when not given, so a blocked or unconfigured
        # endpoint turns into a handoff at draft time instead of an error at start-up.
        self._chat_model = chat_model
        self.model_name = str(getattr(chat_model, "model_name", None) or config.model)
        self.template: PromptTemplate = load_prompt(PROMPT_NAME, prompts_dir)
        self._counter = TokenCounter(self.model_name, config.token_cache_dir)
        self._caller = StructuredCaller(
            DraftOutput,
            name="draft_reply",
            retries=config.max_retries,
            deadline_seconds=config.timeout_seconds,
        )
        self._echoes = EchoDetector(self._caller.json_schema)
        self._api_index: ApiIndex | None = None
        self._api_index_loaded = False

    def _model(self) -> BaseChatModel:
        if self._chat_model is None:
            self._chat_model = build_chat_model(self._config, max_tokens=self._config.max_tokens)
        return self._chat_model

    def _api(self) -> ApiIndex | None:
        # Loaded on first draft (a large spec takes a second to parse), then kept.
        if not self._api_index_loaded:
            self._api_index = load_api_index(self._openapi_specs)
            self._api_index_loaded = True
        return self._api_index

    def draft(self, request: DraftRequest) -> DraftReply:
        started = time.perf_counter()
        context = select_documents(request.hits, self._counter, self._context_tokens)
        if context.dropped:
            logger.info("draft context trimmed: %d lower-ranked chunks dropped", context.dropped)
        try:
            messages = self._render(request, context)
            reply = self._caller.invoke(self._model(), messages)
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
        provenance = self._provenance(context, started)
        provenance.structured_mode = reply.mode
        provenance.prompt_tokens = reply.prompt_tokens
        if provenance.prompt_tokens is None:
            provenance.prompt_tokens = sum(self._counter.count(str(m.content)) for m in messages)
        provenance.completion_tokens = reply.completion_tokens
        if provenance.completion_tokens is None:
            provenance.completion_tokens = self._counter.count(reply.content)
        if self._echoes.is_placeholder(output.answer):
            logger.warning("LLM draft echoed the schema; handing off")
            return self._rejected(request, provenance, SCHEMA_ECHO)

        citations, rejected = validate_citations(output.citations, context.hits)
        if rejected:
            logger.info(
                "dropped %d unsupported citation(s): %s",
                len(rejected),
                ", ".join(f"{r['chunk_id']}={r['reason']}" for r in rejected),
            )
        raw_answer = output.answer.strip()
        claims = check_claims(
            raw_answer,
            citations,
            context.hits,
            lexical=request.language.split("-")[0] == _DOCS_LANGUAGE,
        )
        api = self._api()
        unknown = (
            api.unknown_names(raw_answer, grounding=[h.text for h in context.hits])
            if api is not None
            else []
        )
        checks = DraftChecks(
            sentences_checked=claims.checked,
            unsupported_sentences=claims.unsupported,
            unverifiable_sentences=claims.unverifiable,
            unknown_api_names=unknown,
        )
        provenance.checks = checks
        answer = claims.text
        confidence = output.confidence
        reasons: list[str] = []
        if any(flag.startswith(INJECTION_FLAG) for flag in request.triage.flags):
            reasons.append(INJECTION_FLAG)
        if not raw_answer:
            reasons.append("empty_answer")
        elif not citations:
            reasons.append("unsupported_answer")
        if claims.unsupported:
            reasons.append(f"unsupported_claims: {len(claims.unsupported)} sentence(s) removed")
        if claims.unverifiable:
            reasons.append("unverified_claims")
        if unknown:
            reasons.append(f"unknown_api_names: {', '.join(unknown)}"[:_MAX_MODEL_REASON_CHARS])
        if not answer or not citations:
            confidence = min(confidence, _UNSUPPORTED_CONFIDENCE_CAP)
        if output.needs_human:
            detail = (output.reason or "").strip()[:_MAX_MODEL_REASON_CHARS]
            if self._echoes.is_placeholder(detail):
                detail = ""
            reasons.append(
                f"model_requested_handoff: {detail}" if detail else "model_requested_handoff"
            )
        return DraftReply(
            text=answer or holding_reply(None, request.language),
            citations=citations,
            confidence=confidence,
            needs_human=bool(reasons),
            reason="; ".join(reasons) or None,
            language=request.language,
            provenance=provenance,
        )

    def _rejected(self, request: DraftRequest, provenance: Provenance, reason: str) -> DraftReply:
        """A non-answer: the agent gets the holding reply, never the model's text."""
        provenance.drafter = "handoff"
        provenance.error = reason
        provenance.checks = DraftChecks(rejected=reason)
        return DraftReply(
            text=holding_reply(None, request.language),
            citations=[],
            confidence=0.0,
            needs_human=True,
            reason=f"llm_error: {reason}",
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
        # The code only: a server's error text can carry its file paths and stack traces.
        provenance.error = short
        if isinstance(exc, StructuredCallFailed):
            provenance.structured_mode = exc.mode
            provenance.prompt_tokens = exc.prompt_tokens
            provenance.completion_tokens = exc.completion_tokens
        return DraftReply(
            text=holding_reply(None, request.language),
            citations=[],
            confidence=0.0,
            needs_human=True,
            reason=f"llm_error: {short}",
            language=request.language,
            provenance=provenance,
        )
