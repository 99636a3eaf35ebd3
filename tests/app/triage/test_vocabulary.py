"""The cue vocabularies: every list is read by some code, references expand, bad names fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.triage import vocabulary

APP = Path(__file__).resolve().parents[3] / "app"


def _code_reading_vocabulary() -> str:
    return "\n".join(
        path.read_text("utf-8")
        for path in APP.rglob("*.py")
        if path.name != "vocabulary.py" and "vocabulary" in path.read_text("utf-8")
    )


@pytest.mark.parametrize("name", vocabulary.names())
def test_each_list_is_used(name: str) -> None:
    code = _code_reading_vocabulary()
    # A list is used when code asks for it by name, or another list that is used refers to it.
    referenced = f'"{name}"' in code or f"'{name}'" in code
    nested = any(
        f"@{name}" in e for other in vocabulary.names() for e in vocabulary._lists()[other]
    )
    assert referenced or nested, f"vocabulary list {name!r} is defined but nothing reads it"


def test_each_list_compiles() -> None:
    for name in vocabulary.names():
        assert vocabulary.patterns(name)
        assert vocabulary.pattern(name).pattern


def test_references_expand_to_the_named_list() -> None:
    entries = " ".join(vocabulary.entries("money_missing"))
    assert "@money" not in entries
    assert vocabulary.alternation("money") in entries


def test_unknown_list_is_an_error() -> None:
    with pytest.raises(vocabulary.VocabularyError):
        vocabulary.entries("no_such_list")


def test_without_blanks_matches() -> None:
    text = "how do we rotate keys without downtime?"
    assert "downtime" not in vocabulary.without("not_an_outage", text)
