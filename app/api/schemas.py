"""Request and response bodies of the HTTP API (separate create / update / public shapes).

``triage``, ``signals``, ``redactions`` and ``citations`` have the shapes of
``triage ask --json`` (CONTRACT.md).  They are stored as JSON and returned as stored,
so the public models accept extra keys rather than fail on a ticket written by an
older or newer pipeline.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from app.api.conversation_schemas import ContactDetail, LinkPublic, MessagePublic, SlaPublic
from app.api.help_schemas import ContactIn
from app.store.askers import MAX_ASKER_CHARS
from app.store.models import Draft, ReviewEvent, Ticket, TicketStatus
from app.triage.results import DraftChecks, recorded_checks

Channel = Literal["api", "widget", "slack"]
MAX_METADATA_KEYS = 50
# Draft states whose text is the reply itself (an integration may read those).
REPLY_STATUSES = frozenset({"approved", "sent"})
# Deep enough for any real context object; far from the serialisers' recursion limits.
MAX_METADATA_DEPTH = 32


def _no_nul(value: str) -> str:
    # PostgreSQL text and JSONB cannot hold U+0000; refuse it here as invalid input
    # rather than fail in the database.
    if "\x00" in value:
        raise ValueError("must not contain NUL (U+0000) characters")
    return value


def _storable_json(value: Any, max_depth: int) -> Any:
    """Refuse what JSON columns cannot hold: NUL in strings or keys, NaN/Infinity (and
    numbers such as 1e400 that overflow to infinity), nesting deeper than ``max_depth``.

    Iterative on purpose: a recursive walk (or serialiser) fails on the deep documents
    this check exists to refuse.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _no_nul(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite (no NaN, Infinity or overflowing values)")
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise ValueError(f"nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key in item:
                    _no_nul(str(key))
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)
    return value


Text = Annotated[str, AfterValidator(_no_nul)]

TRIAGE_EXAMPLE: dict[str, Any] = {
    "category": "authentication",
    "confidence": 0.82,
    "priority": "P2",
    "team": "platform",
    "language": "en",
    "sentiment": "negative",
    "flags": ["secret", "sandbox"],
}
SIGNALS_EXAMPLE: dict[str, Any] = {
    "http_statuses": [401],
    "error_codes": [],
    "endpoints": [{"method": "POST", "path": "/quotes"}],
    "environment": "sandbox",
}
QUESTION_EXAMPLE = (
    "Our sandbox calls to POST /quotes return 401 Unauthorized since this morning. "
    "We send client_id and client_secret with basic auth. What changed?"
)


class PublicModel(BaseModel):
    """A response body read from a stored row; keys a newer pipeline added are ignored."""

    model_config = ConfigDict(from_attributes=True, extra="ignore")


class Citation(PublicModel):
    model_config = ConfigDict(from_attributes=True, extra="allow")

    chunk_id: str
    doc_id: str
    source: str | None = None
    url: str | None = None
    quote: str = ""


class Redaction(PublicModel):
    kind: str = Field(examples=["api_secret"])
    placeholder: str = Field(examples=["[REDACTED:api_secret]"])


# -- tickets ------------------------------------------------------------------------


class TicketCreate(BaseModel):
    """An inbound developer question."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "message": QUESTION_EXAMPLE,
                    "channel": "api",
                    "reporter": "dev@example.com",
                    "metadata": {"account": "acme-sandbox"},
                }
            ]
        },
    )

    # The upper bound is TRIAGE_MAX_MESSAGE_CHARS, checked by the route and shown in
    # the OpenAPI document (it is a setting, so it cannot be a constant here).
    message: Text = Field(min_length=1, description="The question as the developer wrote it.")
    channel: Channel = Field(default="api", description="Where the reply goes back to.")
    reporter: Text | None = Field(default=None, max_length=320, description="Who asked.")
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description=f"Free-form context: at most {MAX_METADATA_KEYS} keys, nested at most "
        f"{MAX_METADATA_DEPTH} levels, finite numbers only.",
    )
    external_ref: Text | None = Field(
        default=None, max_length=255, description="The caller's own id for the conversation."
    )

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the message is blank")
        return value

    @field_validator("metadata")
    @classmethod
    def _few_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > MAX_METADATA_KEYS:
            raise ValueError(f"metadata has {len(value)} keys; the limit is {MAX_METADATA_KEYS}")
        return dict(_storable_json(value, MAX_METADATA_DEPTH))


class DraftPublic(PublicModel):
    """One version of the reply to a ticket."""

    id: str = Field(examples=["drf_01JD3V6Y7Q8W9E0R1T2Y3U4I5O"])
    ticket_id: str
    version: int = Field(ge=1)
    status: str = Field(description="pending, approved, sent, rejected or superseded.")
    text: str = Field(description="The draft as written by the drafter.")
    final_text: str | None = Field(description="What is sent: the text or the agent's edit.")
    citations: list[Citation]
    confidence: float
    needs_human: bool
    reason: str | None = Field(description="Why a person must answer, when needs_human.")
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    checks: DraftChecks | None = Field(
        default=None,
        description="What the LLM drafter's checks found (sentences removed or kept unverified, "
        "API names the spec lacks); null for drafts no check ran on.",
    )

    @model_validator(mode="before")
    @classmethod
    def _checks_from_provenance(cls, value: Any) -> Any:
        # A stored draft keeps its checks inside provenance; the body lists them on their own.
        if isinstance(value, Draft):
            fields = {name: getattr(value, name) for name in cls.model_fields if name != "checks"}
            return {**fields, "checks": recorded_checks(value.provenance)}
        return value


class TicketPublic(PublicModel):
    """A ticket with its current draft (the pending one, else the latest)."""

    id: str = Field(examples=["tkt_01JD3V6Y7Q8W9E0R1T2Y3U4I5O"])
    status: TicketStatus
    channel: str
    reporter: str | None
    message: str = Field(description="The message as stored: secrets replaced by placeholders.")
    metadata: dict[str, Any]
    triage: dict[str, Any] = Field(examples=[TRIAGE_EXAMPLE])
    signals: dict[str, Any] = Field(examples=[SIGNALS_EXAMPLE])
    redactions: list[Redaction]
    category: str | None
    priority: str
    team: str | None
    external_ref: str | None
    draft: DraftPublic | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, ticket: Ticket) -> TicketPublic:
        return cls(**_ticket_fields(ticket))


def _ticket_fields(ticket: Ticket, current: Draft | None = None) -> dict[str, Any]:
    current = current or ticket.pending_draft or ticket.latest_draft
    return {
        "id": ticket.id,
        "status": ticket.status,
        "channel": ticket.channel,
        "reporter": ticket.reporter,
        "message": ticket.message,
        "metadata": ticket.meta,
        "triage": ticket.triage,
        "signals": ticket.signals,
        "redactions": [Redaction.model_validate(r) for r in ticket.redactions],
        "category": ticket.category,
        "priority": ticket.priority,
        "team": ticket.team,
        "external_ref": ticket.external_ref,
        "draft": DraftPublic.model_validate(current) if current is not None else None,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
    }


class ReviewEventPublic(PublicModel):
    id: str
    draft_id: str | None
    action: str = Field(description="approve, edit, reject, escalate or reassign.")
    reviewer: str
    reason_code: str | None
    reason: str | None
    edit_distance: int | None
    created_at: datetime


class TicketDetail(TicketPublic):
    """The ticket, every draft version and every review decision on it, and its
    conversation (app/api/routes/conversations.py fills those fields)."""

    drafts: list[DraftPublic]
    review: list[ReviewEventPublic]
    messages: list[MessagePublic] = Field(
        default_factory=list, description="The conversation in order (notes: agents only)."
    )
    assignee: str | None = None
    sla: SlaPublic | None = None
    version: int = Field(default=0, description="Pass as expected_version to act on this state.")
    merged_into: str | None = None
    merged_from: list[str] = Field(default_factory=list)
    links: list[LinkPublic] = Field(default_factory=list)
    contact: ContactDetail | None = Field(
        default=None,
        description="The developer's contact from a /help hand-off (agents and admins only).",
    )

    @classmethod
    def of_view(cls, ticket: Ticket, events: list[ReviewEvent]) -> TicketDetail:
        return cls(
            **_ticket_fields(ticket),
            drafts=[DraftPublic.model_validate(d) for d in ticket.drafts],
            review=[ReviewEventPublic.model_validate(e) for e in events],
        )

    @classmethod
    def for_creator(cls, ticket: Ticket) -> TicketDetail:
        """What the integration that created the ticket may read: the reply once an agent
        approved it, never unreviewed drafts or who decided what."""
        replies = [d for d in ticket.drafts if d.status in REPLY_STATUSES]
        fields = _ticket_fields(ticket, replies[-1] if replies else None)
        if not replies:
            fields["draft"] = None
        return cls(**fields, drafts=[DraftPublic.model_validate(d) for d in replies], review=[])


class AuditEntry(PublicModel):
    id: str
    actor: str
    action: str = Field(examples=["draft_approved"])
    from_status: str | None
    to_status: str | None
    detail: dict[str, Any]
    created_at: datetime


# -- knowledge and the public widget -------------------------------------------------


class SearchHit(PublicModel):
    chunk_id: str
    doc_id: str = Field(examples=["docs/guides/api-reference/authentication"])
    source: str
    title: str
    url: str | None
    heading: str
    score: float
    text: str
    kind: str = Field(default="", examples=["guide"])


class AskRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"question": QUESTION_EXAMPLE}]}
    )

    question: Text = Field(min_length=1)
    contact: ContactIn | None = Field(
        default=None,
        description="How to reach the asker if the question is handed off (e.g. the "
        "identity the embedding site passes to the widget).",
    )
    asker: str | None = Field(
        default=None,
        max_length=MAX_ASKER_CHARS,
        description="An opaque id of the asker (the /help page keeps a random one per "
        "browser), stored only as a keyed hash: whether an answered asker opened a ticket "
        "afterwards is how deflection is measured (docs/metrics.md).",
    )

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is blank")
        return value


class RelatedPage(BaseModel):
    doc_id: str
    source: str
    url: str


class AskResponse(BaseModel):
    answer: str
    citations: list[Citation]
    confidence: float
    handed_off: bool = Field(description="True: a person will answer; see ticket_id.")
    ticket_id: str | None = None
    conversation_url: str | None = Field(
        default=None,
        description="A handed-off question's conversation link (unguessable; shown once): "
        "the replies, and where to follow up.",
    )
    related: list[RelatedPage] = Field(
        default_factory=list,
        description="A handed-off question: documentation pages that may help while a "
        "person answers (found for the question, not claimed to answer it).",
    )
    answer_id: str | None = Field(
        default=None,
        description="An answered question's id, for POST /v1/ask/{answer_id}/feedback "
        "(did this answer help?).",
    )


def draft_public(draft: Draft) -> DraftPublic:
    return DraftPublic.model_validate(draft)
