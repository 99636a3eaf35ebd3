"""Recognise a schema or prompt echo: a weak model's non-answer copied from the format.

A small model asked for `{"answer": ...}` sometimes returns the field's description
("Markdown reply to the customer") or the prompt's example values (`other`, 0.9, "short
explanation").  Such a reply is well-formed JSON and passes the schema, so it has to be
caught by content: the phrases are data (`echoes.yaml`), plus every `description` in the
JSON schema the model was sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["EchoDetector", "normalise_phrase"]

_DATA = Path(__file__).with_name("echoes.yaml")
_NON_WORD = re.compile(r"[\W_]+")
# An answer this much longer than a placeholder is a real answer that merely contains it.
_SLACK_WORDS = 3


def normalise_phrase(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text.casefold()).split())


@cache
def _phrases() -> frozenset[str]:
    raw = yaml.safe_load(_DATA.read_text("utf-8"))
    return frozenset(normalise_phrase(str(p)) for p in raw["phrases"])


def _descriptions(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "description" and isinstance(value, str):
                yield value
            else:
                yield from _descriptions(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _descriptions(item)


class EchoDetector:
    """Placeholder phrases from the data file and from one JSON schema's descriptions."""

    def __init__(self, json_schema: dict[str, Any] | None = None) -> None:
        extra = (normalise_phrase(d) for d in _descriptions(json_schema or {}))
        self.phrases = _phrases() | frozenset(p for p in extra if p)

    def is_placeholder(self, text: str | None) -> bool:
        """True for an empty-of-meaning text: a placeholder, or little more than one."""
        norm = normalise_phrase(text or "")
        if not norm:
            return False
        if norm in self.phrases:
            return True
        words = len(norm.split())
        return any(
            f" {phrase} " in f" {norm} " and words <= len(phrase.split()) + _SLACK_WORDS
            for phrase in self.phrases
            if len(phrase.split()) >= 3
        )

    def copies_classification_example(self, reason: str | None) -> bool:
        """A classification's reason is where a copied example shows: a category and a
        confidence can be right by chance, "short explanation" cannot."""
        return self.is_placeholder(reason)
