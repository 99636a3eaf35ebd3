"""Secrets written as sentences rather than as assignments.

"my client secret is 9Qz7…", "mi contraseña es Perro2024!", "the 12 words are …": the cue
words come from ``secret_cues.yaml``; the value after a cue is redacted only when it looks
like a secret (random-looking, or a phrase with the shape of a wallet's recovery words), so
"my password is not working" stays as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from app.triage.screen._secret_cues import (
    CredentialCue,
    auth_scheme_header,
    credential_cues,
    mode_marked_keys,
    phrase_anchor_regex,
    phrase_anchors,
    phrase_cue,
    phrase_length,
    plain,
    prefixed_tokens,
    stop_words,
)
from app.triage.screen._secret_patterns import rx

Span = tuple[int, int, str]

_TRAILING = ".,:;!?)]}>*"
# Sentence ends that are just as often the last character of a password.
_PASSWORD_TRAILING = ".,:;)]}>"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PHRASE_WORD = re.compile(r"[^\W\d_]{3,12}(?![\w\-])")
# Between the words of a phrase: blanks, commas, quotes, list numbers, one line break.
_PHRASE_GAP = re.compile(r"(?:[ \t,;\"'\[\]]|\r?\n(?![ \t]*\r?\n)|\d{1,2}[.):\-](?=\s))*")
_CODE_PATH = re.compile(r"[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)+\??")
_MIN_PHRASE = 12
_MAX_PHRASE = 24


def prose_hits(text: str) -> Iterator[Span]:
    yield from _listed_tokens(text)
    plain_text = plain(text)
    yield from _credential_hits(text, plain_text)
    if any(anchor in plain_text for anchor in phrase_anchors()):
        yield from _announced_phrases(text)


def _listed_tokens(text: str) -> Iterator[Span]:
    """Vendor prefixes and Authorization schemes listed in ``secret_cues.yaml``."""
    tokens = prefixed_tokens()
    for m in tokens.regex.finditer(text):
        before = text[m.start() - 1] if m.start() else " "
        if not (before.isalnum() or before in "_-."):
            yield m.start(), m.end(), tokens.kinds[m.group("prefix")]
    for m in mode_marked_keys().finditer(text):
        before = text[m.start() - 1] if m.start() else " "
        if not (before.isalnum() or before in "_-."):
            yield m.start(), m.end(), "api_secret"
    if "uthorization" not in text and "UTHORIZATION" not in text:
        return
    for m in auth_scheme_header().finditer(text):
        value = m.group("secret").rstrip(_TRAILING)
        if _secret_like(value, "api_secret"):
            yield m.start("secret"), m.start("secret") + len(value), "api_secret"


def _credential_hits(text: str, plain_text: str) -> Iterator[Span]:
    low = text.lower()
    for cue in credential_cues():
        if cue.may_match(plain_text):
            yield from _cue_hits(cue, text, low)


def _cue_hits(cue: CredentialCue, text: str, low: str) -> Iterator[Span]:
    for m in _tried_at_first_words(cue, text, low):
        value = m.group("secret")
        if not m.group("q"):
            value = value.rstrip(_PASSWORD_TRAILING if cue.kind == "password" else _TRAILING)
        if _secret_like(value, cue.kind):
            start = m.start("secret")
            yield start, start + len(value), cue.kind


def _tried_at_first_words(cue: CredentialCue, text: str, low: str) -> Iterator[re.Match[str]]:
    """The cue regex matched only where a cue's first word starts, not at every character
    (the regex's alternation is slow to try everywhere)."""
    if len(low) != len(text):  # a few characters lengthen when lowered: plain search
        yield from cue.regex.finditer(text)
        return
    starts: set[int] = set()
    for word in cue.first_words:
        at = low.find(word)
        while at >= 0:
            starts.add(at)
            at = low.find(word, at + 1)
    end = 0
    for at in sorted(starts):
        if at >= end and (m := cue.regex.match(text, at)) is not None:
            end = m.end()
            yield m


def _secret_like(value: str, kind: str) -> bool:
    if rx("placeholder").fullmatch(value) or rx("code_reference").fullmatch(value):
        return False
    if value.lower() in stop_words() or "://" in value or "::" in value:
        return False
    if _CODE_PATH.fullmatch(value):
        return False  # env.STELLAR_SECRET?.trim, config.client.secret: code, not a value
    letters = any(c.isalpha() for c in value)
    digits = any(c.isdigit() for c in value)
    if kind == "client_id":
        return bool(_UUID.fullmatch(value)) or (len(value) >= 8 and letters and digits)
    if kind == "password":
        symbols = any(not c.isalnum() for c in value)
        inner_upper = any(c.isupper() for c in value[1:]) and any(c.islower() for c in value)
        return len(value) >= 6 and (digits or symbols or inner_upper)
    mixed = any(c.isupper() for c in value) and any(c.islower() for c in value)
    return (len(value) >= 10 and letters and digits) or (len(value) >= 16 and mixed)


def _announced_phrases(text: str) -> Iterator[Span]:
    cue = phrase_cue()
    for m in _cue_matches(cue, text):
        words = _words_after(text, m.end())
        wanted = phrase_length(m.group("cue"))
        if wanted is not None and len(words) >= wanted:
            words = words[:wanted]
        else:
            words = words[:_MAX_PHRASE]
        if _phrase_shaped([w.group().lower() for w in words]):
            yield words[0].start(), words[-1].end(), "recovery_phrase"


def _cue_matches(cue: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """The cue regex is long; run it only around its anchor words, not over every char."""
    pos = 0
    for start, end in _anchor_spans(text):
        if end <= pos:
            continue
        m = cue.search(text, max(pos, start - 40), end + 80)
        if m is not None:
            pos = m.end()
            yield m


def _anchor_spans(text: str) -> list[tuple[int, int]]:
    low = text.lower()
    if len(low) != len(text):  # a few characters lengthen when lowered: use the regex
        return [m.span() for m in phrase_anchor_regex().finditer(text)]
    spans = []
    for anchor in phrase_anchors():
        at = low.find(anchor)
        while at >= 0:
            spans.append((at, at + len(anchor)))
            at = low.find(anchor, at + 1)
    return sorted(spans)


def _words_after(text: str, pos: int) -> list[re.Match[str]]:
    words: list[re.Match[str]] = []
    while len(words) < _MAX_PHRASE + 1:
        gap = _PHRASE_GAP.match(text, pos)
        at = gap.end() if gap else pos
        word = _PHRASE_WORD.match(text, at)
        if word is None:
            break
        words.append(word)
        pos = word.end()
    return words


def _phrase_shaped(words: list[str]) -> bool:
    """Enough words, mostly distinct, hardly any of the little words prose is made of."""
    if len(words) < _MIN_PHRASE:
        return False
    stops = sum(w in stop_words() for w in words)
    # Mostly distinct: at least three quarters of the shortest phrase (pasted twice is fine).
    return len(set(words)) >= 0.75 * _MIN_PHRASE and stops * 6 <= len(words)
