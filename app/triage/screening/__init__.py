"""Screening run on every inbound message before any LLM call, embedding, log or DB write."""

from app.triage.screening.injection import InjectionResult, detect_injection
from app.triage.screening.secrets import Redaction, RedactionResult, redact_secrets

__all__ = ["InjectionResult", "Redaction", "RedactionResult", "detect_injection", "redact_secrets"]
