"""Screen documentation passages that must never reach a reply, a prompt or the public.

A doc page is data.  It may describe credentials ("keep your client secret safe"), never
ask the reader for one; it never speaks to the model that reads it.  A passage is
flagged, with reason codes, when it holds:

- ``instruction``: text aimed at the model or reader-as-model ("ignore previous
  instructions", "as an AI…", "note to the assistant");
- ``credential_request``: a request for a secret, password or recovery phrase
  ("reply with your client secret"); warnings ("never send us…") are not requests;
- ``untrusted_link``: a link outside the doc set's own domains that lures the reader
  (credentials, "verify your account", "the API has moved") or hides its target
  (shortener, user-info host, punycode, anchor text naming another domain);
- ``hidden_comment``: an HTML comment or CSS-hidden element in the source file that
  carries any of the above, an outside link or a note to an AI (the loaders drop such
  markup, so it is seen only at ingest, and the whole page is distrusted);
- ``hidden_text``: zero-width characters inside words, bidi overrides or Unicode tag
  characters, which hide or disguise text.

The vocabulary is data (``untrusted.yaml``); its hash is the screener's ``version``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml

from ingest.untrusted_links import LinkRules, judge_links

__all__ = ["REASONS", "Finding", "PassageScreener", "Screening", "Vocabulary", "vocabulary"]

REASONS = ("instruction", "credential_request", "untrusted_link", "hidden_comment", "hidden_text")

# Folded away before matching: zero-width, bidi controls, tag characters, soft hyphen.
_INVISIBLE = re.compile(
    "[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
)
# Hiding, as opposed to typography: a zero-width character inside a word, bidi
# overrides and tag characters anywhere, or a run of invisible characters.
_HIDING = re.compile(
    "[A-Za-z0-9][\u200b-\u200f\u2060-\u2064\ufeff]+[A-Za-z0-9]"
    "|[\u202a-\u202e\u2066-\u2069\U000e0000-\U000e007f]"
    "|[\u200b-\u200f\u2060-\u2064\ufeff]{3,}"
)
_FENCED = re.compile(r"(?ms)^[ \t]*(```|~~~).*?(?:^[ \t]*\1|\Z)")
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_COMMENT = re.compile(r"<!--(?P<body>.*?)(?:-->|\Z)", re.S)
_CSS_HIDDEN = re.compile(
    r"<(\w+)[^>]*(?:display:\s*none|visibility:\s*hidden|font-size:\s*0)[^>]*>(?P<body>.*?)</\1",
    re.S | re.I,
)
_SENTENCE_END = re.compile(r"[.?!;:](?:\s|$)|\n\s*\n")
_NEGATION_SPAN = 80
_WORD = re.compile(r"[a-z0-9]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


@dataclass(frozen=True)
class Finding:
    reason: str
    start: int
    end: int
    evidence: str


@dataclass(frozen=True)
class Screening:
    findings: tuple[Finding, ...] = ()

    @property
    def flagged(self) -> bool:
        return bool(self.findings)

    @property
    def reasons(self) -> list[str]:
        found = {f.reason for f in self.findings}
        return [r for r in REASONS if r in found]


@dataclass(frozen=True)
class Rule:
    regex: re.Pattern[str]
    # Each group must share a word with the passage before the regex runs at all.
    needs: tuple[frozenset[str], ...] = ()

    def finditer(self, folded: str, words: set[str]) -> Iterable[re.Match[str]]:
        if any(words.isdisjoint(group) for group in self.needs):
            return ()
        return self.regex.finditer(folded)


@dataclass(frozen=True)
class Vocabulary:
    rules: dict[str, tuple[Rule, ...]]
    negation: re.Pattern[str]
    ai_word: re.Pattern[str]
    links: LinkRules
    digest: str


def _compile(pattern: str, defines: dict[str, str]) -> str:
    # Multi-line entries are joined without separators; a space matches any whitespace.
    joined = "".join(line.strip() for line in pattern.splitlines())
    for _ in range(3):  # definitions may use definitions
        joined = re.sub(r"%(\w+)%", lambda m: defines[m.group(1)], joined)
    return re.sub(r"\\? ", r"\\s+", joined)


def load_vocabulary(text: str) -> Vocabulary:
    data: Any = yaml.safe_load(text)
    raw_defines = {str(k): str(v) for k, v in data["defines"].items()}
    defines = {k: "".join(line.strip() for line in v.splitlines()) for k, v in raw_defines.items()}
    groups = {str(k): frozenset(str(v).split()) for k, v in data["words"].items()}

    def rule(entry: Any) -> Rule:
        if isinstance(entry, str):
            return Rule(re.compile(_compile(entry, defines)))
        needs = tuple(
            frozenset().union(
                *(groups[w[1:]] if w.startswith("$") else {w} for w in str(g).split())
            )
            for g in entry.get("needs", [])
        )
        return Rule(re.compile(_compile(str(entry["pattern"]), defines)), needs)

    rules = {
        str(reason): tuple(rule(e) for e in entries) for reason, entries in data["rules"].items()
    }
    return Vocabulary(
        rules=rules,
        negation=re.compile(
            rf"(?:{_compile(str(data['negation']), defines)})(?:\s+[\w'-]+){{0,4}}\s*$"
        ),
        ai_word=re.compile(rf"\b{_compile('%ai%', defines)}\b"),
        links=LinkRules.from_mapping(data["links"]),
        digest=hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
    )


@cache
def vocabulary() -> Vocabulary:
    return load_vocabulary(resources.files("ingest").joinpath("untrusted.yaml").read_text("utf-8"))


def fold(text: str) -> tuple[str, list[int] | None]:
    """Lower-case, accent-free, invisible-free text and, unless it is plain ASCII, the
    offset in `text` of every folded character (so findings point at the original)."""
    if text.isascii():
        return text.lower(), None
    out: list[str] = []
    offsets: list[int] = []
    pos = 0
    for m in _NON_ASCII.finditer(text):
        out.append(text[pos : m.start()].lower())
        offsets.extend(range(pos, m.start()))
        for i in range(m.start(), m.end()):
            piece = _fold_char(text[i])
            out.append(piece)
            offsets.extend([i] * len(piece))
        pos = m.end()
    out.append(text[pos:].lower())
    offsets.extend(range(pos, len(text)))
    return "".join(out), offsets


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if _INVISIBLE.match(ch):
        return ""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", ch))
    piece = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return piece.replace("\u2019", "'").replace("\u2018", "'")


@dataclass
class PassageScreener:
    """Screens passage text against the vocabulary and the doc set's own domains."""

    allowed_domains: frozenset[str] = frozenset()
    vocab: Vocabulary = field(default_factory=vocabulary)

    @property
    def version(self) -> str:
        return self.vocab.digest

    def poisoned(self, text: str) -> bool:
        """Flagged for anything but its links (decides which domains counting may vouch for)."""
        return self.screen(text, links=False).flagged or self.screen_source(text).flagged

    def screen(self, text: str, *, links: bool = True) -> Screening:
        folded, offsets = fold(text)
        code = _code_mask(folded)
        found: list[Finding] = []

        def add(reason: str, start: int, end: int) -> None:
            a, b = start, end
            if offsets:
                a = offsets[start]
                b = offsets[end - 1] + 1 if end > start else a
            found.append(Finding(reason, a, b, text[a:b]))

        words = set(_WORD.findall(folded))
        for reason in ("instruction", "credential_request"):
            for rule in self.vocab.rules.get(reason, ()):
                for m in rule.finditer(folded, words):
                    if reason == "credential_request" and self._negated(folded, m.start()):
                        continue
                    add(reason, m.start(), m.end())
        verdicts = judge_links(folded, self.allowed_domains, self.vocab.links) if links else []
        for link in verdicts:
            if (
                link.outside
                and not _in(code, link.start)
                and (link.deceptive or self._lures(folded, link.start, link.end))
            ):
                add("untrusted_link", link.start, link.end)
        for m in _HIDING.finditer(text):
            found.append(Finding("hidden_text", m.start(), m.end(), text[m.start() : m.end()]))
        return Screening(tuple(sorted(found, key=lambda f: f.start)))

    def screen_source(self, raw: str) -> Screening:
        """Hidden markup of a source file (HTML comments, CSS-hidden elements) that carries
        instructions, requests, outside links or a note to an AI."""
        found: list[Finding] = []
        for regex in (_COMMENT, _CSS_HIDDEN):
            for m in regex.finditer(raw):
                body = m.group("body")
                if not re.search(r"[A-Za-z]{3}", body):
                    continue
                inner = self.screen(body)
                folded, _ = fold(body)
                outside = any(
                    v.outside for v in judge_links(folded, self.allowed_domains, self.vocab.links)
                )
                if inner.flagged or outside or self.vocab.ai_word.search(folded):
                    found.append(Finding("hidden_comment", m.start(), m.end(), m.group(0)))
        return Screening(tuple(found))

    def _negated(self, folded: str, start: int) -> bool:
        """A negation governs the request: "never send us…", "do not share your…"."""
        window = folded[max(0, start - _NEGATION_SPAN) : start]
        ends = list(_SENTENCE_END.finditer(window))
        if ends:
            window = window[ends[-1].end() :]
        return bool(self.vocab.negation.search(window))

    def _lures(self, folded: str, start: int, end: int) -> bool:
        sentence = _sentence_around(folded, start, end)
        words = set(_WORD.findall(sentence))
        return any(
            not self._negated(sentence, m.start())
            for rule in self.vocab.rules.get("link_lure", ())
            for m in rule.finditer(sentence, words)
        )


def _sentence_around(text: str, start: int, end: int) -> str:
    before = text[max(0, start - 250) : start]
    ends = list(_SENTENCE_END.finditer(before))
    head = before[ends[-1].end() :] if ends else before
    after = text[end : end + 250]
    stop = _SENTENCE_END.search(after)
    tail = after[: stop.start()] if stop else after
    return f"{head} {tail}"


def _code_mask(folded: str) -> list[tuple[int, int]]:
    spans = [(m.start(), m.end()) for m in _FENCED.finditer(folded)]
    spans += [(m.start(), m.end()) for m in _INLINE_CODE.finditer(folded)]
    return spans


def _in(spans: Iterable[tuple[int, int]], pos: int) -> bool:
    return any(a <= pos < b for a, b in spans)


def line_of(raw: str, evidence: str, fallback: str = "") -> int:
    """1-based line in the source file where the evidence (else the fallback) starts."""
    for probe in (evidence, evidence.strip().splitlines()[0] if evidence.strip() else ""):
        if probe and (pos := raw.find(probe)) >= 0:
            return raw.count("\n", 0, pos) + 1
    for line in fallback.strip().splitlines()[:3]:
        words = line.strip()[:40]
        if words and (pos := raw.find(words)) >= 0:
            return raw.count("\n", 0, pos) + 1
    return 1
