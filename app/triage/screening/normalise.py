"""Views of a message in which obfuscated secrets read like plain ones.

A key with a zero-width space inside, a Cyrillic "е" in ``sk_live_``, fullwidth letters or a
token wrapped over two lines slips past every pattern.  Detection therefore runs on a
*view*: the text after NFKC, with invisible characters removed and homoglyphs folded inside
mixed-script tokens (and, in a second view, wrapped tokens joined).  Each view keeps, for
every character, the index of the original character it came from, so a span found in the
view is redacted in the original text, invisible characters and line breaks included.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

__all__ = ["View", "joined_view", "normalised_view"]

_TOKEN = re.compile(r"\S+")
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")
# A line that ends in a long token, continued by a token at the start of the next line.
_WRAP = re.compile(
    r"(?P<a>[A-Za-z0-9_\-+/=]{12,})[ \t]*\\?\r?\n[ \t>]*"
    r"(?P<b>[A-Za-z0-9_\-+/=]{6,})(?=[\s\"'`,;.)\]}]|$)"
)


@dataclass(frozen=True, slots=True)
class View:
    """``text`` plus where each of its characters sits in the original (None: same place)."""

    text: str
    origin: tuple[int, ...] | None = None
    # Positions in ``text`` where a line break between two halves of a token was removed.
    joins: tuple[int, ...] = ()

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span holding view characters ``start:end``."""
        if self.origin is None or end <= start:
            return start, end
        return self.origin[start], self.origin[end - 1] + 1

    def crosses_join(self, start: int, end: int) -> bool:
        return any(start < j < end for j in self.joins)


@dataclass(frozen=True)
class _Tables:
    invisible: frozenset[str]
    homoglyphs: dict[str, str]


@cache
def _tables() -> _Tables:
    raw = resources.files("app.triage.screening").joinpath("confusables.yaml").read_text("utf-8")
    data = yaml.safe_load(raw)
    homoglyphs = {str(k): str(v) for k, v in data["homoglyphs"].items()}
    if any(len(k) != 1 or len(v) != 1 for k, v in homoglyphs.items()):
        raise ValueError("confusables.yaml: homoglyphs map one character to one character")
    return _Tables(frozenset(data["invisible"]), homoglyphs)


def normalised_view(text: str) -> View:
    """NFKC, invisible characters dropped, homoglyphs folded in mixed-script tokens."""
    if text.isascii():
        return View(text)  # NFKC, invisible and homoglyph rules all leave ASCII unchanged
    tables = _tables()
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch in tables.invisible:
            continue
        # Per character, so every output character knows its source; NFKC across
        # characters only recombines accents, which no secret pattern relies on.
        for out in ch if ch.isascii() else unicodedata.normalize("NFKC", ch):
            if out not in tables.invisible:
                chars.append(out)
                origin.append(i)
    _fold_homoglyphs(chars, tables.homoglyphs)
    return View("".join(chars), tuple(origin))


def _fold_homoglyphs(chars: list[str], homoglyphs: dict[str, str]) -> None:
    folded = "".join(chars)
    for m in _TOKEN.finditer(folded):
        token = m.group()
        if token.isascii() or not _ASCII_ALNUM.search(token):
            continue  # pure ASCII needs nothing; pure Cyrillic/Greek words are real words
        for k, ch in enumerate(token, start=m.start()):
            chars[k] = homoglyphs.get(ch, ch)


def joined_view(view: View) -> View | None:
    """``view`` with tokens wrapped over two lines joined, or None when there are none."""
    text = view.text
    gaps = [
        (m.end("a"), m.start("b"))
        for m in _WRAP.finditer(text)
        if _looks_wrapped(m.group("a"), m.group("b"))
    ]
    if not gaps:
        return None
    base = view.origin if view.origin is not None else range(len(text))
    chars: list[str] = []
    origin: list[int] = []
    joins: list[int] = []
    cursor = 0
    for gap_start, gap_end in gaps:
        chars.append(text[cursor:gap_start])
        origin.extend(base[cursor:gap_start])
        joins.append(len(origin))
        cursor = gap_end
    chars.append(text[cursor:])
    origin.extend(base[cursor:])
    return View("".join(chars), tuple(origin), tuple(joins))


def _looks_wrapped(head: str, tail: str) -> bool:
    # Both halves of a random token carry digits or mixed case; a line ending in a hash
    # followed by a word ("…9f3a\nThanks") does not.
    def random_ish(part: str) -> bool:
        has_digit = any(c.isdigit() for c in part)
        mixed = any(c.isupper() for c in part[1:]) and any(c.islower() for c in part)
        return has_digit or mixed

    return random_ish(head) and random_ish(tail)
