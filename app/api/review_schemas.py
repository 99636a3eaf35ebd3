"""Request bodies of the review actions: approve (optionally edited), reject, escalate."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.api.schemas import Text
from app.store.models import RejectReason

# -- review actions ------------------------------------------------------------------


class ApproveRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {},
                {"text": "Hi! Rotate your sandbox secret under …", "expected_version": 1},
            ]
        },
    )

    text: Text | None = Field(
        default=None, min_length=1, description="The edited reply, if edited."
    )
    expected_version: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="Fail with 409 if the draft is not this version.",
    )


class RejectRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason_code": "inaccurate", "reason": "Wrong endpoint."}]
        },
    )

    reason_code: RejectReason = Field(default="other")
    reason: Text | None = Field(default=None, min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _explained(self) -> RejectRequest:
        if self.reason_code == "other" and self.reason is None:
            raise ValueError("give a reason_code other than 'other', or a reason")
        return self


class EscalateRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "Needs a payments engineer.", "team": "payments"}]
        },
    )

    reason: Text = Field(min_length=1, max_length=2000)
    team: Text | None = Field(default=None, min_length=1, max_length=64)
