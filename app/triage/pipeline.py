"""One incoming message → triage result, signals, redactions and a draft reply.

Order matters: secrets are redacted before anything else sees the text (no LLM
call, embedding, log line or stored row ever holds the original), injection is
flagged before classification so it can only add caution, never remove it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from app.triage.classify.categorize import CategoryClassifier
from app.triage.classify.priority import decide_priority
from app.triage.classify.taxonomy import Taxonomy
from app.triage.draft.events import EVENT_QUERY, event_hits
from app.triage.draft.events import SEARCH_K as EVENT_SEARCH_K
from app.triage.draft.handoff import handoff_reason, is_account_specific
from app.triage.draft.lookup import PARAMETER_QUERY, parameter_hits
from app.triage.draft.offline import OfflineDrafter
from app.triage.draft.phrases import holding_reply
from app.triage.draft.protocol import Drafter, DraftRequest, Turn
from app.triage.draft.question import asks_event, asks_lookup
from app.triage.draft.status import (
    ENDPOINT_SEARCH_K,
    endpoint_query,
    error_statuses,
    status_hits,
)
from app.triage.results import AskResult, Citation, DraftReply, Provenance, TriageResult
from app.triage.screen.injection import detect_injection
from app.triage.screen.language import LanguageDetector
from app.triage.screen.passages import trusted_passages
from app.triage.screen.secrets import Redaction, redact_secrets
from app.triage.screen.sentiment import sentiment_of
from app.triage.screen.signals import Signals, extract_signals
from ingest.retrieval import Hit, HybridRetriever

log = logging.getLogger(__name__)


_CODE_BLOCK = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_JSON_OBJECT = re.compile(r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}")
_URL = re.compile(r"https?://\S+")


def prose_for_classification(text: str) -> str:
    """The developer's own words: pasted code, JSON and URLs crowd them out of the
    encoder's 256-piece window and say little about what kind of problem it is."""
    prose = _URL.sub(" ", _JSON_OBJECT.sub(" ", _CODE_BLOCK.sub(" ", text)))
    prose = " ".join(prose.split())
    return prose if len(prose) >= 12 else text


# A follow-up this short, or opening like this, leans on what the developer said before.
MAX_FOLLOW_UP_WORDS = 8
_REFERENTIAL = re.compile(
    r"^\W*(?:and|also|or|but|so|then|what about|how about|same|still|ok(?:ay)?|"
    r"it|that|this|those|these|there)\b",
    re.IGNORECASE,
)
# Roles a turn of `history` has when the developer wrote it (evals say "user").
CUSTOMER_ROLES = frozenset({"user", "customer"})
_MAX_CONTEXT_TURNS = 3


def is_referential(text: str) -> bool:
    return len(text.split()) <= MAX_FOLLOW_UP_WORDS or bool(_REFERENTIAL.match(text))


def in_context(text: str, history: Sequence[Turn]) -> str:
    """What a follow-up is about: "and in Python?" after a webhook-signature question is
    read together with that question, so classification, retrieval and drafting see the
    topic.  A self-contained message is read alone.  Internal notes never reach here:
    callers pass only the developer's and the agents' sent messages."""
    if not is_referential(text):
        return text
    earlier: list[str] = []
    for turn in reversed(history):
        if turn.role not in CUSTOMER_ROLES or not turn.content.strip():
            continue
        earlier.insert(0, turn.content)
        # Back to the message that set the topic, or a few turns at most.
        if not is_referential(turn.content) or len(earlier) >= _MAX_CONTEXT_TURNS:
            break
    return "\n\n".join([*earlier, text]) if earlier else text


class _ReusableAnswer(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def citations(self) -> list[Citation]: ...
    @property
    def similarity(self) -> float: ...


class ReusableAnswerLookup(Protocol):
    """Agent-approved answers to earlier questions (app/answers)."""

    def match(self, question: str, *, language: str | None = None) -> _ReusableAnswer | None: ...


@dataclass
class _Screened:
    request: DraftRequest
    redactions: list[Redaction]
    # The message itself, redacted (the request's question may add its context).
    message: str


@dataclass
class PipelineOptions:
    k: int = 5
    min_support: float = 0.35
    oos_confidence: float = 0.35


class TriagePipeline:
    def __init__(
        self,
        *,
        taxonomy: Taxonomy,
        retriever: HybridRetriever,
        classifier: CategoryClassifier,
        drafter: Drafter,
        offline_drafter: OfflineDrafter,
        language: LanguageDetector,
        known_error_codes: frozenset[str] = frozenset(),
        options: PipelineOptions | None = None,
        answers: ReusableAnswerLookup | None = None,
    ) -> None:
        self.answers = answers
        self.taxonomy = taxonomy
        self.retriever = retriever
        self.classifier = classifier
        self.drafter = drafter
        self.offline_drafter = offline_drafter
        self.language = language
        self.known_error_codes = known_error_codes
        self.options = options or PipelineOptions()

    def warm(self) -> None:
        """Load (or train, on a new taxonomy) the models a first message would otherwise
        wait for, so no ticket pays for the classifier's training."""
        self.classifier.offline_model()
        self.language.detect("warming up the language identifier")

    def run(self, message: str, *, history: Sequence[Turn] = ()) -> AskResult:
        screened = self._screen(message, history)
        return AskResult(
            triage=screened.request.triage,
            signals=screened.request.signals,
            redactions=screened.redactions,
            draft=self.draft_for(screened.request),
            message=screened.message,
        )

    def draft_request(self, message: str, *, history: Sequence[Turn] = ()) -> DraftRequest:
        """Everything up to drafting: screening, triage and retrieval (for tuning drafters)."""
        return self._screen(message, history).request

    def _screen(self, message: str, history: Sequence[Turn]) -> _Screened:
        redaction = redact_secrets(message)
        text = in_context(redaction.text, history)
        injection = detect_injection(text)
        signals = extract_signals(text, self.known_error_codes)
        triage = self._triage(
            text,
            signals,
            redaction.production_credential,
            bool(redaction.redactions),
            injection.flagged,
            redaction.recovery_phrase,
        )
        hits = self._retrieve(text, signals, triage)
        request = DraftRequest(
            question=text,
            history=list(history),
            hits=hits,
            triage=triage,
            signals=signals,
            language=triage.language,
        )
        return _Screened(request, list(redaction.redactions), redaction.text)

    # -- triage ---------------------------------------------------------------------
    def _triage(
        self,
        text: str,
        signals: Signals,
        production_secret: bool,
        any_secret: bool,
        injected: bool,
        recovery_phrase: bool,
    ) -> TriageResult:
        decision = self.classifier.classify(prose_for_classification(text))
        category = decision.category
        flags: list[str] = []
        if any_secret:
            flags.append("secret")
            if recovery_phrase:
                flags.append("recovery_phrase")
            if production_secret:
                category = "security"
        if injected:
            flags.append("prompt_injection")
        if not decision.in_scope or decision.confidence < self.options.oos_confidence:
            flags.append("low_confidence")
        if signals.mentions_outage and signals.environment != "sandbox":
            flags.append("outage")
        if signals.mentions_money_stuck:
            flags.append("money_stuck")
        if signals.environment:
            flags.append(signals.environment)
        if decision.fallback_error:
            flags.append("llm_fallback")
        # The classifier's own findings (e.g. an LLM overruled by a confident offline model).
        flags.extend(f for f in decision.flags if f not in flags)
        default = self.taxonomy.categories[category].default_priority
        priority = decide_priority(
            category=category,
            default=default,
            signals=signals,
            text=text,
            production_secret=production_secret,
            account_specific=is_account_specific(text, signals),
        )
        language = self.language.detect(text)
        if decision.llm is not None and decision.llm.language:
            language = decision.llm.language
        return TriageResult(
            category=category,
            confidence=round(decision.confidence, 4),
            priority=priority.priority,
            team=self.taxonomy.team_for(category),
            language=language,
            sentiment=sentiment_of(text),
            flags=flags,
            classifier=decision.source,
            priority_reasons=priority.reasons,
        )

    # -- retrieval and drafting -------------------------------------------------------
    def _retrieve(self, text: str, signals: Signals, triage: TriageResult) -> list[Hit]:
        query = text  # secrets are already replaced by placeholders
        # Exact identifiers help BM25 find the page that documents an error or endpoint.
        extra = [*signals.error_codes, *(e.path for e in signals.endpoints)]
        hits = self.retriever.search(query, self.options.k, extra_terms=extra)
        if asks_lookup(text):
            # "Find X by Y": the list endpoint's query parameters, which the guides that
            # create X usually outrank.  Told apart by their text, not by a page kind that
            # only some corpora's manifests set.
            found = self.retriever.search(f"{query} {PARAMETER_QUERY}", 20, extra_terms=extra)
            hits = [*hits, *parameter_hits(found, hits)]
        if asks_event(text):
            # "Is there a webhook when X changes?": the event's webhook reference page,
            # which the guides that mention X usually outrank.
            found = self.retriever.search(
                f"{query} {EVENT_QUERY}", EVENT_SEARCH_K, extra_terms=extra
            )
            hits = [*hits, *event_hits(found, hits, self.offline_drafter.sections)]
        statuses = error_statuses(signals.http_statuses, text)
        if statuses and (query_endpoints := endpoint_query(signals.endpoints)):
            # "POST /x returned 409": that endpoint's documented meaning of 409, on its
            # API-reference page, which the question's words rarely rank first.
            paths = [e.path for e in signals.endpoints]
            found = self.retriever.search(query_endpoints, ENDPOINT_SEARCH_K, extra_terms=paths)
            lookup = self.offline_drafter.sections
            hits = [*hits, *status_hits(signals.endpoints, statuses, found, hits, lookup)]
        # Poisoned doc passages are withheld; one among the best hands the draft to a person.
        return trusted_passages(hits, self.retriever, triage)

    def draft_for(self, request: DraftRequest) -> DraftReply:
        """The decision sequence once the passages are known: policy hand-off, else a
        draft, and a draft that cites nothing is handed off too.  Evals that bring their
        own passages (MTRAG) call this directly."""
        started = time.perf_counter()
        reason = handoff_reason(
            text=request.question,
            triage=request.triage,
            signals=request.signals,
            hits=request.hits,
            min_support=self.options.min_support,
        )
        if reason == "security_exposure" and "secret" in request.triage.flags:
            return self._security_reply(request)
        if reason is not None:
            return self._handoff(request, reason, started)
        reused = self._reusable(request, started)
        if reused is not None:
            return reused
        draft = self.drafter.draft(request)
        if not draft.citations and not draft.needs_human:
            draft.needs_human, draft.reason = True, "unsupported_answer"
        if draft.needs_human and not draft.text:
            draft.text = holding_reply(draft.reason, request.language)
        return draft

    def _reusable(self, request: DraftRequest, started: float) -> DraftReply | None:
        """An agent-approved answer to a question this one paraphrases, preferred to the docs.

        Not for P1: an emergency that reads like an old how-to still needs a person."""
        if self.answers is None or request.triage.priority == "P1":
            return None
        match = self.answers.match(request.question, language=request.language)
        if match is None:
            return None
        return DraftReply(
            text=match.text,
            citations=match.citations,
            confidence=round(min(match.similarity, 1.0), 3),
            needs_human=False,
            language=request.language,
            provenance=Provenance(
                drafter="reusable",
                reusable_answer_id=match.id,
                retrieved_chunk_ids=[h.chunk_id for h in request.hits],
                latency_ms=round((time.perf_counter() - started) * 1000, 2),
            ),
        )

    def _security_reply(self, request: DraftRequest) -> DraftReply:
        from app.triage.draft.phrases import phrase

        # The warning first, then the question the developer actually asked, answered
        # from the docs when they answer it; a person reviews before anything is sent.
        advice = self.offline_drafter.draft(request)
        text = phrase("secret_intro", request.language)
        if advice.text:
            text = f"{text}\n\n{advice.text}"
        return DraftReply(
            text=text,
            citations=advice.citations,
            confidence=advice.confidence,
            needs_human=True,
            reason="security_exposure",
            language=request.language,
            provenance=advice.provenance,
        )

    @staticmethod
    def _handoff(request: DraftRequest, reason: str, started: float) -> DraftReply:
        return DraftReply(
            text=holding_reply(reason, request.language),
            confidence=0.0,
            needs_human=True,
            reason=reason,
            language=request.language,
            provenance=Provenance(
                drafter="handoff",
                retrieved_chunk_ids=[h.chunk_id for h in request.hits],
                latency_ms=round((time.perf_counter() - started) * 1000, 2),
            ),
        )
