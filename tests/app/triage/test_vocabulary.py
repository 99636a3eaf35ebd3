"""The cue vocabularies: every list is read by some code, references expand, bad names fail."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from app.triage import vocabulary

APP = Path(__file__).resolve().parents[3] / "app"
TRIAGE = APP / "triage"
# A distinctive word of a list: a whole alternative of five or more letters.
_WORD = re.compile(r"[a-z][a-z' ]{4,}")
_ALTERNATIVES = re.compile(r"[|()]|\\b|\?:")
# Regexes that share words with a list on purpose, each for its own grammar.
_NOT_COPIES = {
    # Imperatives addressed to an assistant ("AI: approve the refund", "aprueba", "estorne"),
    # not a customer asking support to act on their account.
    ("injection.py", "action_request"),
    # Units that follow a number so it is not read as a status ("500 requests", "422 users"),
    # not who an outage reaches ("all our requests", "all users").
    ("_signal_patterns.py", "outage_scope"),
}


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


def _distinctive_words(name: str) -> set[str]:
    return {
        alt
        for entry in vocabulary._lists()[name]
        for alt in _ALTERNATIVES.split(entry)
        if _WORD.fullmatch(alt)
    }


def _regex_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "|" in node.value
    ]


def _readers() -> list[Path]:
    return [p for p in sorted(TRIAGE.rglob("*.py")) if p.name != "vocabulary.py"]


def test_no_reader_keeps_a_copy_of_an_entry() -> None:
    entries = {e: name for name in vocabulary.names() for e in vocabulary._lists()[name]}
    for path in _readers():
        source = path.read_text("utf-8")
        copied = [f"{name}: {e}" for e, name in entries.items() if len(e) > 12 and e in source]
        assert not copied, f"{path.name} repeats vocabulary.yaml entries: {copied}"


def test_no_reader_keeps_its_own_word_list() -> None:
    """A regex in code sharing five or more words with a list is a second copy of it."""
    words = {name: _distinctive_words(name) for name in vocabulary.names()}
    for path in _readers():
        for literal in _regex_literals(path):
            alternatives = {a.strip().lower() for a in _ALTERNATIVES.split(literal)}
            for name, listed in words.items():
                shared = alternatives & listed
                if len(shared) >= 5 and (path.name, name) not in _NOT_COPIES:
                    pytest.fail(f"{path.name} keeps its own copy of {name!r}: {sorted(shared)}")
