"""Secrets recognised by their shape: card numbers and English BIP-39 recovery phrases.

Both yield spans only; ``secrets.py`` names the kind and resolves overlaps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from app.triage.screen._secret_patterns import bip39_words, english_mnemonic, rx

_MIN_PHRASE_WORDS = 12
_PHRASE_LENGTHS = (12, 15, 18, 21, 24)
# Three quarters of the shortest phrase: BIP-39 allows repeats, but not many.
_MIN_DISTINCT_WORDS = 9


def card_spans(text: str) -> Iterator[tuple[int, int]]:
    for m in rx("card_candidate").finditer(text):
        groups = re.split(r"[ \-]", m.group())
        digits = "".join(groups)
        if len(groups) > 1 and not _card_grouping([len(g) for g in groups]):
            continue  # phone numbers, dates and the like are grouped differently
        if 13 <= len(digits) <= 19 and digits[0] in "23456" and _luhn_ok(digits):
            yield m.start(), m.end()


def _card_grouping(lengths: list[int]) -> bool:
    fours = len(lengths) >= 4 and all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4
    return fours or lengths in ([4, 6, 5], [4, 6, 4])


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def bip39_phrase_spans(text: str) -> Iterator[tuple[int, int]]:
    words = bip39_words()
    run: list[re.Match[str]] = []
    for m in rx("word").finditer(text):
        in_list = m.group().lower() in words
        if run and (not in_list or not rx("phrase_gap").fullmatch(text, run[-1].end(), m.start())):
            yield from _phrase_hit(run)
            run = []
        if in_list:
            run.append(m)
    yield from _phrase_hit(run)


def _phrase_hit(run: list[re.Match[str]]) -> Iterator[tuple[int, int]]:
    # Prose never strings 12 list words together without a stop word or punctuation.
    if len(run) < _MIN_PHRASE_WORDS:
        return
    # A real phrase is random words: "word word word …" or a chant of three words is not
    # (a phrase pasted twice still is).
    if len({w.group().lower() for w in run}) < _MIN_DISTINCT_WORDS:
        return
    first, last = 0, len(run)
    if len(run) not in _PHRASE_LENGTHS:
        # A list word or two of prose may touch the phrase ("… zoo What now?"): trim them only
        # when a checksum-valid phrase remains; otherwise redact the whole run.
        for length in sorted(_PHRASE_LENGTHS, reverse=True):
            starts = range(max(0, len(run) - length - 3), min(len(run) - length, 3) + 1)
            valid = [i for i in starts if _checksum_ok(run[i : i + length])]
            if valid:
                first, last = valid[0], valid[0] + length
                break
    yield run[first].start(), run[last - 1].end()


def _checksum_ok(words: list[re.Match[str]]) -> bool:
    return bool(english_mnemonic().check(" ".join(w.group().lower() for w in words)))
