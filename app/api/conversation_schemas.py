"""Request and response bodies of the conversation routes (separate create / action /
public shapes, as in schemas.py; that module's TicketDetail embeds the public ones)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from app.store.conversations import LinkKind


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold U+0000: refuse it as invalid input, never a 5xx.
    if "\x00" in value:
        raise ValueError("must not contain NUL (U+0000) characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
ExpectedVersion = Annotated[
    int | None,
    Field(
        default=None,
        ge=0,
        le=1_000_000_000,
        description="Fail with 409 (and the current state) unless the ticket is at this version.",
    ),
]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: ExpectedVersion = None


# -- public shapes ----------------------------------------------------------------------


class MessagePublic(BaseModel):
    """One message of the conversation, in order."""

    id: str = Field(examples=["msg_01JD3V6Y7Q8W9E0R1T2Y3U4I5O"])
    ticket_id: str = Field(description="Differs from the ticket's own id for merged duplicates.")
    author: Literal["customer", "agent", "system"]
    internal: bool = Field(description="An internal note: never sent or shown to the customer.")
    text: str = Field(description="As stored: secrets replaced by placeholders.")
    author_name: str | None = Field(description="The reporter, the agent, or the actor.")
    event: str | None = Field(description="For system messages: solved, reopened, merged, …")
    draft_id: str | None = Field(description="The draft an agent reply was sent as.")
    external_id: str | None
    created_at: datetime


class SlaPublic(BaseModel):
    first_response_due: datetime | None = Field(description="Null once met, or while paused.")
    next_response_due: datetime | None = Field(description="Set while a follow-up waits.")
    resolution_due: datetime | None
    breached: bool = Field(description="A clock ran past its target (stays true).")
    paused: bool = Field(description="Awaiting the customer: the clocks are stopped.")


class ContactDetail(BaseModel):
    """How to reach the developer, as they gave it on /help (agents and admins only;
    the developer's own page shows the address masked)."""

    email: str | None = Field(description="Replies are emailed here when SMTP is set up.")
    name: str | None


class LinkPublic(BaseModel):
    ticket_id: str
    kind: LinkKind


# -- requests ----------------------------------------------------------------------------


class MessageCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "and in Python?", "author": "customer"},
                {"text": "Use the X-Grid-Signature header …", "author": "agent"},
                {"text": "Customer is on the legacy plan.", "author": "agent", "internal": True},
            ]
        },
    )

    # The upper bound is TRIAGE_MAX_MESSAGE_CHARS, checked by the route.
    text: Text = Field(min_length=1)
    author: Literal["customer", "agent"]
    internal: bool = Field(default=False, description="An internal note (agents only).")
    external_id: Text | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="The sender's id for this message: a second delivery is stored once.",
    )
    expected_version: ExpectedVersion = None

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the message is blank")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> MessageCreate:
        if self.internal and self.author != "agent":
            raise ValueError("an internal note is written by an agent (author: agent)")
        if self.external_id is not None and self.author != "customer":
            raise ValueError("external_id identifies a customer follow-up")
        return self


class AssignRequest(_Action):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"take": True}, {"assignee": "alice"}, {"assignee": None}]},
    )

    take: bool = Field(default=False, description="Assign to yourself unless someone has it.")
    assignee: Text | None = Field(
        default=None, min_length=1, max_length=200, description="An agent's name; null unassigns."
    )

    @model_validator(mode="after")
    def _one_way(self) -> AssignRequest:
        if self.take and self.assignee is not None:
            raise ValueError("either take the ticket or name an assignee, not both")
        return self


class RecategorizeRequest(_Action):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"category": "webhooks", "priority": "P2"}]}
    )

    category: Text | None = Field(default=None, min_length=1, max_length=64)
    priority: Literal["P1", "P2", "P3", "P4"] | None = None

    @model_validator(mode="after")
    def _something(self) -> RecategorizeRequest:
        if self.category is None and self.priority is None:
            raise ValueError("give a category, a priority or both")
        return self


class ActionRequest(_Action):
    """Solve, await the customer, reopen, redraft: only the optional version check."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{}, {"expected_version": 3}]}
    )


TicketRef = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,40}$")]


class MergeRequest(_Action):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"into": "tkt_01JD3V6Y7Q8W9E0R1T2Y3U4I5O"}]},
    )

    into: TicketRef = Field(description="The ticket that keeps the conversation.")


class LinkRequest(_Action):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"ticket_id": "tkt_01JD3V6Y7Q8W9E0R1T2Y3U4I5O"}]},
    )

    ticket_id: TicketRef = Field(description="The other ticket (e.g. of the same incident).")
    kind: LinkKind = "incident"
