"""Secret redaction for every text a service stores besides the message itself.

The pipeline screens the message; a developer can just as well paste a key into
``metadata``, ``reporter`` or ``external_ref``, an agent into an edited reply or a reason,
an integration into an Idempotency-Key.  Every such text goes through ``redact_secrets``
here, in the service layer, before it reaches the store (and so the database, the API's
responses, the audit log and any log line built from a row).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, overload

from app.store.idempotency import MAX_KEY_LENGTH
from app.triage.screen.secrets import Redaction, placeholder_for, redact_secrets

__all__ = [
    "ScreenedFields",
    "screen_fields",
    "screen_text",
    "storable_key",
]

# Metadata nests; past this depth a value is not walked further but still screened whole.
_MAX_DEPTH = 64


@dataclass
class _Found:
    redactions: list[Redaction] = field(default_factory=list)

    def text(self, value: str, *, key: str | None = None) -> str:
        result = redact_secrets(value)
        if key:
            # The key says what the value is: {"password": "hunter2"} holds a password
            # although "hunter2" alone reads as a word.
            prefix = f"{key}="
            keyed = redact_secrets(prefix + value)
            if keyed.redacted and keyed.text.startswith(prefix):
                result = keyed.model_copy(update={"text": keyed.text[len(prefix) :]})
        self.redactions += result.redactions
        return result.text

    def value(self, value: Any, key: str | None, depth: int) -> Any:
        if isinstance(value, str):
            return self.text(value, key=key)
        if depth >= _MAX_DEPTH:
            return self.deep(value)
        if isinstance(value, Mapping):
            # Keys are screened too: a pasted token can just as well be a key.
            return {self.text(str(k)): self.value(v, str(k), depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v, key, depth + 1) for v in value]
        return value

    def deep(self, value: Any) -> Any:
        """Below the walking depth: screen the value as JSON, replace it whole if need be."""
        try:
            result = redact_secrets(json.dumps(value, default=str))
        except (RecursionError, ValueError):
            return placeholder_for("unscreened")
        if not result.redacted:
            return value
        self.redactions += result.redactions
        return placeholder_for(result.redactions[0].kind)


@dataclass(frozen=True)
class ScreenedFields:
    reporter: str | None
    metadata: dict[str, Any]
    external_ref: str | None
    redactions: list[Redaction]


def screen_fields(
    reporter: str | None, metadata: Mapping[str, Any], external_ref: str | None
) -> ScreenedFields:
    """A ticket's side fields with secrets replaced by ``[REDACTED:<kind>]``."""
    found = _Found()
    return ScreenedFields(
        reporter=None if reporter is None else found.text(reporter),
        metadata=found.value(dict(metadata), None, 0),
        external_ref=None if external_ref is None else found.text(external_ref),
        redactions=found.redactions,
    )


@overload
def screen_text(value: str) -> str: ...
@overload
def screen_text(value: None) -> None: ...
def screen_text(value: str | None) -> str | None:
    """One free text (an agent's edit, a reason) with its secrets redacted."""
    return None if value is None else redact_secrets(value).text


def storable_key(key: str) -> str:
    """An Idempotency-Key as stored: itself, or its sha256 when it holds a secret.

    Hashed rather than redacted, so two different secret-bearing keys stay two keys.
    """
    if not key or len(key) > MAX_KEY_LENGTH or not redact_secrets(key).redacted:
        return key  # the store refuses a key of the wrong length, without echoing it
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
