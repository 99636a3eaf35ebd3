"""The triage cue vocabularies (vocabulary.yaml): each word list defined once, read here.

A list is a set of regular-expression fragments over accent-free lower-case text
(see `screen.signals.fold`).  `alternation` gives one list as a group to build into a larger
pattern; `pattern` compiles a list as one whole-word alternation; `patterns` compiles
each entry on its own, for lists whose entries are complete patterns.  "@name" in an
entry stands for list `name`.  Loaded and compiled on first use.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import yaml

_REFERENCE = re.compile(r"@(\w+)")


class VocabularyError(ValueError):
    """vocabulary.yaml is malformed or a reader asked for a list it does not define."""


@cache
def _lists() -> dict[str, tuple[str, ...]]:
    text = resources.files("app.triage").joinpath("vocabulary.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise VocabularyError("vocabulary.yaml must map list names to lists of patterns")
    lists: dict[str, tuple[str, ...]] = {}
    for name, entries in data.items():
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise VocabularyError(f"vocabulary list {name!r} must be a list of strings")
        lists[str(name)] = tuple(entries)
    return lists


def names() -> list[str]:
    return list(_lists())


def entries(name: str) -> tuple[str, ...]:
    """The list's fragments with "@name" references expanded."""
    try:
        raw = _lists()[name]
    except KeyError:
        raise VocabularyError(f"vocabulary.yaml has no list {name!r}") from None
    return tuple(_REFERENCE.sub(lambda m: alternation(m.group(1)), entry) for entry in raw)


@cache
def alternation(name: str) -> str:
    """The list as one non-capturing group, e.g. "(?:funds?|money|...)"."""
    return "(?:" + "|".join(entries(name)) + ")"


@cache
def pattern(name: str) -> re.Pattern[str]:
    """The list as one pattern matching any entry as whole words."""
    return re.compile(rf"\b{alternation(name)}\b")


@cache
def patterns(name: str) -> tuple[re.Pattern[str], ...]:
    """Each entry compiled on its own (entries that are complete patterns)."""
    return tuple(re.compile(entry) for entry in entries(name))


def any_match(name: str, text: str) -> bool:
    return any(p.search(text) for p in patterns(name))


def without(name: str, text: str) -> str:
    """`text` with every match of the list's patterns blanked out."""
    for p in patterns(name):
        text = p.sub(" ", text)
    return text
