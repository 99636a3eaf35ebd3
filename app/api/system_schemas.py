"""Bodies of the token and system endpoints, and the problem+json error shape."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.api.schemas import PublicModel
from app.store.api_tokens import MAX_NAME_CHARS, TokenNameError, check_name
from app.store.models import Role

# -- tokens and system ----------------------------------------------------------------


class TokenCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"role": "agent", "name": "alice"}]}
    )

    role: Role
    name: str = Field(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        description="Unique; one printable line without markup, not starting with 'system:'.",
    )

    @field_validator("name")
    @classmethod
    def _fit_for_the_audit_trail(cls, value: str) -> str:
        try:
            return check_name(value)
        except TokenNameError as exc:
            raise ValueError(str(exc)) from exc


class TokenPublic(PublicModel):
    id: str
    name: str
    role: Role
    prefix: str = Field(description="The first characters of the token, to tell tokens apart.")
    created_at: datetime
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="The secret. Shown once; only its hash is stored.")


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    checks: dict[str, str] = Field(examples=[{"database": "ok", "knowledge_base": "ok"}])


class ProblemFieldError(BaseModel):
    loc: list[str | int] = Field(examples=[["body", "message"]])
    type: str = Field(examples=["string_too_long"])
    message: str = Field(examples=["String should have at most 20000 characters"])
    pointer: str | None = Field(default=None, examples=["#/message"])


class Problem(BaseModel):
    """RFC 9457 problem details, served as application/problem+json."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:triage:problem:conflict"])
    title: str = Field(examples=["Conflict"])
    status: int = Field(examples=[409])
    detail: str = Field(examples=["draft drf_01JD3V… is already approved"])
    instance: str = Field(examples=["/v1/drafts/drf_01JD3V…/approve"])
    errors: list[ProblemFieldError] | None = None
