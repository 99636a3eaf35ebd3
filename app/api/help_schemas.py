"""Bodies of the developer's side: the contact given on /help (or through POST /v1/ask),
the conversation behind their link (/help/c/{token}) and their verdict on an answer."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.conversations.contacts import normalise_email, normalise_name
from app.store.contacts import MAX_EMAIL_CHARS, MAX_NAME_CHARS


class ContactIn(BaseModel):
    """How to reach the developer; both optional (a name alone reaches nobody)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"email": "dev@example.com", "name": "Ada"}]},
    )

    email: str | None = Field(default=None, max_length=MAX_EMAIL_CHARS)
    name: str | None = Field(default=None, max_length=MAX_NAME_CHARS)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else normalise_email(value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else normalise_name(value)


class ContactPublic(BaseModel):
    """The contact as the developer's page shows it: the address masked."""

    email: str | None = Field(description="Masked (j…@example.com); null when none was given.")
    name: str | None


class PublicMessage(BaseModel):
    author: Literal["customer", "agent"]
    text: str
    created_at: datetime


class PublicConversation(BaseModel):
    """What the developer sees: their messages and the replies sent to them, never an
    internal note, a draft or a workflow event."""

    ticket_id: str
    status: Literal["open", "answered", "solved"]
    messages: list[PublicMessage]
    contact: ContactPublic


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the message is blank")
        return value


class AnswerFeedback(BaseModel):
    """The asker's verdict on an answer /v1/ask showed them."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"helpful": False}]})

    helpful: bool = Field(description="False: the answer did not help (a knowledge-gap signal).")
