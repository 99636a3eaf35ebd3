"""What a support message asks for, as far as shaping an answer needs to know.

A how-to question wants steps and code; "what does X mean / why do I get X" wants the
cause and the fix; "what is the limit / format / value of X" wants the sentence or the
table row that states it.  The cues are data (`question_cues.yaml`), one list per shape
and language, read once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

Shape = Literal["how_to", "error", "value", "yes_no", "general"]

_CUES_FILE = Path(__file__).with_name("question_cues.yaml")
_IDENTIFIER = re.compile(
    r"`([^`\n]{2,60})`"  # anything in backticks
    r"|\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b"  # UPPER_SNAKE codes and enum values
    r"|\b([a-z]+(?:[A-Z][a-z0-9]+)+)\b"  # camelCase fields
    r"|(?<![\w.])(/[a-z][\w-]*(?:/[\w{}:.-]+)*)"  # API paths
    r"|\b([A-Z][A-Z]+(?:\.[A-Z_]+)+)\b"  # webhook event types
    r"|(?<![\w.$,])([45]\d\d)(?![\w.,])"  # HTTP error statuses
    # A query parameter, in a pasted URL or as written ("?customerId=…&limit=500", "tried
    # limit=500"): the developer names the parameter whose documented bounds they hit.
    r"|(?:(?<=[?&\s])|^)([a-zA-Z]\w*)=(?=[^\s=])"
)
_WRITE_CALL = re.compile(r"\b(?:POST|PUT|PATCH|DELETE)\s+/")
_PATH_ID = re.compile(r"/[A-Z][A-Za-z]+:[0-9a-f-]{6,}")


@dataclass(frozen=True)
class Cues:
    how_to: re.Pattern[str]
    error: re.Pattern[str]
    value: re.Pattern[str]
    yes_no: re.Pattern[str]
    lookup: re.Pattern[str]
    event: re.Pattern[str]
    code_languages: dict[str, tuple[str, ...]]


@cache
def cues() -> Cues:
    data = yaml.safe_load(_CUES_FILE.read_text("utf-8"))

    def pattern(name: str) -> re.Pattern[str]:
        words = [w for lang in data[name].values() for w in lang]
        return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)", re.IGNORECASE)

    languages = {k: tuple(v) for k, v in data["code_languages"].items()}
    return Cues(
        how_to=pattern("how_to"),
        error=pattern("error"),
        value=pattern("value"),
        yes_no=pattern("yes_no"),
        lookup=pattern("lookup"),
        event=pattern("event"),
        code_languages=languages,
    )


@dataclass(frozen=True)
class Question:
    text: str
    shape: Shape
    identifiers: tuple[str, ...] = ()
    # The words of the sentences that ask ("What is wrong with the amount??"), lower-cased:
    # a field named there is what the developer asks about, whatever else the pasted body
    # names.
    asked_words: frozenset[str] = frozenset()
    error_codes: tuple[str, ...] = ()
    code_language: str | None = None  # the language a code example should be in
    wants_code: bool = False
    # Finding objects by a property: a list endpoint's query parameter answers it.
    wants_lookup: bool = False
    # Being told when something happens: a webhook's event type answers it.
    wants_event: bool = False


def _identifiers(text: str) -> tuple[str, ...]:
    text = _PATH_ID.sub("/{id}", text)
    found: list[str] = []
    for match in _IDENTIFIER.finditer(text):
        value = next(g for g in match.groups() if g)
        value = value.strip().strip(".,:;")
        if len(value) >= 3 and value not in found:
            found.append(value)
    return tuple(found)


_SENTENCE = re.compile(r"[^.!?\n]*\?")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _asked_words(text: str) -> frozenset[str]:
    return frozenset(
        w.lower() for sentence in _SENTENCE.findall(text) for w in _WORD.findall(sentence)
    )


def asks_lookup(text: str) -> bool:
    """Finding objects by a property ("is there a filter", "find the transaction by …").

    Not with a pasted write call: "delete a customer by our own id: DELETE /customers?…"
    asks how to delete, and a list endpoint's filters do not answer it."""
    return bool(cues().lookup.search(text)) and not _WRITE_CALL.search(text)


def asks_event(text: str) -> bool:
    """Whether the developer asks to be told when something happens ("is there a webhook when
    the funding instructions change, or do we poll?")."""
    return bool(cues().event.search(text))


def analyse(text: str, error_codes: tuple[str, ...] = ()) -> Question:
    c = cues()
    lowered = text.lower()
    code_language = next(
        (
            name
            for name, words in c.code_languages.items()
            if any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", lowered) for w in words)
        ),
        None,
    )
    how_to = bool(c.how_to.search(text))
    error = bool(error_codes) or bool(c.error.search(text))
    if how_to and not error:
        shape: Shape = "how_to"
    elif error:
        shape = "error"
    elif c.value.search(text):
        shape = "value"
    elif c.yes_no.search(text):
        shape = "yes_no"
    elif how_to:
        shape = "how_to"
    else:
        shape = "general"
    return Question(
        text=text,
        shape=shape,
        identifiers=_identifiers(text),
        asked_words=_asked_words(text),
        error_codes=tuple(error_codes),
        code_language=code_language,
        wants_code=how_to or code_language is not None,
        wants_lookup=asks_lookup(text),
        wants_event=asks_event(text),
    )
