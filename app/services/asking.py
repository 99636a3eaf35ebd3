"""What /v1/ask shows the asker: the decision between answering and handing off, and the
answer's shape either way (TicketService.record_ask writes it).

Kept apart from the ticket service so that the demo history (app/operations/demo) can ask
the same question of the same rule when it plans which help-page questions get an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.triage.draft.compose import without_sources
from app.triage.draft.phrases import holding_reply
from app.triage.results import Citation, DraftReply


@dataclass(frozen=True)
class AskAnswer:
    answer: str
    citations: list[Citation]
    confidence: float
    handed_off: bool
    ticket_id: str | None = None
    # A handed-off question's conversation link token (shown to the asker once).
    conversation_token: str | None = None
    # An answered question's stored answer, for the asker's "did this help?".
    answer_id: str | None = None
    # A handed-off question: the doc sections the unshown draft found, offered as reading
    # while a person answers (their text is not claimed to answer anything).
    related: list[Citation] = field(default_factory=list)


def shown_directly(draft: DraftReply, min_confidence: float) -> bool:
    """Whether /v1/ask answers with this draft itself rather than opening a ticket.

    An agent-approved answer was already judged by a person; a docs-only draft must have
    earned its threshold (see Settings.ask_answer_min_confidence)."""
    approved = draft.provenance.drafter == "reusable"
    return not draft.needs_human and (approved or draft.confidence >= min_confidence)


def answered(draft: DraftReply, answer_id: str) -> AskAnswer:
    # The page lists the citations itself, numbered as the text's [n] markers.
    return AskAnswer(
        without_sources(draft.text),
        draft.citations,
        draft.confidence,
        handed_off=False,
        answer_id=answer_id,
    )


def handed_off(draft: DraftReply, language: str, ticket_id: str, token: str) -> AskAnswer:
    # The pipeline's own hand-off texts (holding replies, rotate-your-credentials advice)
    # are safe to show; a model's unsupported answer is not.
    deterministic = draft.provenance.drafter == "handoff" or draft.reason == "security_exposure"
    related: list[Citation] = []
    if deterministic:
        answer, citations = draft.text, draft.citations
    else:
        answer, citations = holding_reply(draft.reason, language), []
        related = _pages(draft.citations)
    return AskAnswer(
        answer,
        citations,
        draft.confidence,
        handed_off=True,
        ticket_id=ticket_id,
        conversation_token=token,
        related=related,
    )


def _pages(citations: list[Citation]) -> list[Citation]:
    """One entry per doc page with a URL, without the quoted text."""
    pages: dict[str, Citation] = {}
    for citation in citations:
        if citation.url and citation.url not in pages:
            pages[citation.url] = citation.model_copy(update={"quote": ""})
    return list(pages.values())
