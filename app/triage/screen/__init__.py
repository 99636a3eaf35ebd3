"""Screening run on every inbound message before any LLM call, embedding, log or DB write."""

from app.triage.screen.injection import InjectionResult, detect_injection
from app.triage.screen.secrets import Redaction, RedactionResult, redact_secrets

__all__ = ["InjectionResult", "Redaction", "RedactionResult", "detect_injection", "redact_secrets"]
