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
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

__all__ = ["View", "joined_view", "normalised_view"]

_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_TOKEN = re.compile(r"\S+")
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")
# A line that ends in a long token, continued by a token at the start of the next line.
_WRAP = re.compile(
    r"(?<![A-Za-z0-9_\-+/=])(?P<a>[A-Za-z0-9_\-+/=]{12,})[ \t]*\\?\r?\n[ \t>]*"
    r"(?P<b>[A-Za-z0-9_\-+/=]{6,})(?=[\s\"'`,;.)\]}]|$)"
)


@dataclass(frozen=True, slots=True)
class View:
    """``text`` plus where each of its characters sits in the original (None: same place)."""

    text: str
    origin: Sequence[int] | None = None
    # Positions in ``text`` where a line break between two halves of a token was removed.
    joins: tuple[int, ...] = ()

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span holding view characters ``start:end``."""
        if self.origin is None or end <= start:
            return start, end
        return self.origin[start], self.origin[end - 1] + 1

    def crosses_join(self, start: int, end: int) -> bool:
        return any(start < j < end for j in self.joins)

    def join_windows(self) -> list[tuple[int, int]]:
        """For each join, the joined line and the one before it (where a key name sits)."""
        windows: list[tuple[int, int]] = []
        for j in self.joins:
            line_start = self.text.rfind("\n", 0, j) + 1
            start = self.text.rfind("\n", 0, max(0, line_start - 1)) + 1
            end = self.text.find("\n", j)
            end = len(self.text) if end < 0 else end
            if windows and start <= windows[-1][1]:
                # Overlapping windows merge: a column of wrapped lines is screened once.
                windows[-1] = (windows[-1][0], end)
            else:
                windows.append((start, end))
        return windows


@dataclass(frozen=True)
class _Tables:
    invisible: frozenset[str]
    homoglyphs: dict[str, str]


@cache
def _tables() -> _Tables:
    raw = resources.files("app.triage.screen").joinpath("confusables.yaml").read_text("utf-8")
    data = yaml.safe_load(raw)
    homoglyphs = {str(k): str(v) for k, v in data["homoglyphs"].items()}
    if any(len(k) != 1 or len(v) != 1 for k, v in homoglyphs.items()):
        raise ValueError("confusables.yaml: homoglyphs map one character to one character")
    return _Tables(frozenset(data["invisible"]), homoglyphs)


def normalised_view(text: str) -> View:
    """NFKC, invisible characters dropped, homoglyphs folded in mixed-script tokens."""
    if text.isascii():
        return View(text)  # NFKC, invisible and homoglyph rules all leave ASCII unchanged
    pieces: list[str] = []
    origin: list[int] = []
    cursor = 0
    for m in _NON_ASCII.finditer(text):
        out = _normalised_char(m.group())
        if out == m.group():
            continue
        at = m.start()
        pieces += [text[cursor:at], out]
        origin += range(cursor, at)
        origin += [at] * len(out)
        cursor = at + 1
    if cursor:
        pieces.append(text[cursor:])
        origin += range(cursor, len(text))
        base = "".join(pieces)
    else:
        base = text
    folded = _fold_homoglyphs(base)
    if folded is text:
        return View(text)
    return View(folded, origin if cursor else range(len(text)))


@cache
def _normalised_char(ch: str) -> str:
    # Per character, so every output character knows its source; NFKC across characters
    # only recombines accents, which no secret pattern relies on.
    invisible = _tables().invisible
    if ch in invisible:
        return ""
    return "".join(c for c in unicodedata.normalize("NFKC", ch) if c not in invisible)


@cache
def _homoglyph_chars() -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(c) for c in _tables().homoglyphs) + "]")


def _fold_homoglyphs(text: str) -> str:
    """Fold lookalikes in tokens that also hold ASCII letters or digits; pure Cyrillic or
    Greek words are real words and stay as they are."""
    lookalike = _homoglyph_chars()
    if not lookalike.search(text):
        return text
    table = str.maketrans(_tables().homoglyphs)
    pieces: list[str] = []
    cursor = 0
    for m in _TOKEN.finditer(text):
        token = m.group()
        if lookalike.search(token) and _ASCII_ALNUM.search(token):
            pieces += [text[cursor : m.start()], token.translate(table)]
            cursor = m.end()
    pieces.append(text[cursor:])
    return "".join(pieces) if cursor else text


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
    return View("".join(chars), origin, tuple(joins))


def _looks_wrapped(head: str, tail: str) -> bool:
    # Both halves of a random token carry digits or mixed case; a line ending in a hash
    # followed by a word ("…9f3a\nThanks") does not.
    def random_ish(part: str) -> bool:
        has_digit = any(c.isdigit() for c in part)
        mixed = any(c.isupper() for c in part[1:]) and any(c.islower() for c in part)
        return has_digit or mixed

    return random_ish(head) and random_ish(tail)
