"""What every drafter receives and returns."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, Field

from app.triage.results import DraftReply, TriageResult
from app.triage.screen.signals import Signals
from ingest.retrieval import Hit


class Turn(BaseModel):
    role: str
    content: str


class DraftRequest(BaseModel):
    """A redacted question with its triage and the retrieved documentation."""

    question: str
    history: list[Turn] = Field(default_factory=list)
    hits: list[Hit]
    triage: TriageResult
    signals: Signals
    language: str = "en"


class Drafter(Protocol):
    name: str

    def draft(self, request: DraftRequest) -> DraftReply: ...
