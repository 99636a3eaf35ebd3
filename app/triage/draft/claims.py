"""Claim-by-claim support check of an LLM answer, without asking an LLM.

The answer is split into sentences (code blocks and headings are not claims).  A sentence
is supported when one passage it cites — a chunk behind one of the answer's validated
citations, or the chunk it names inline as `[chunk-id]` — contains every identifier and
number the sentence states, and at least `min_overlap` of its content words.  Words are
compared by their first five letters, which lets "expires" meet "expired" without a
stemmer.  Unsupported sentences are removed from the answer and reported.

The lexical part only works when answer and docs share a language.  For an answer in
another language only identifiers and numbers can be compared: a sentence with none is
unverifiable, kept for the reviewer and reported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from app.triage.draft.citations import normalise_for_match
from app.triage.draft.markup_patterns import CODE_SPAN, MARKDOWN_LINK, UPPER_SNAKE
from app.triage.results import Citation
from ingest.retrieval import Hit

__all__ = ["ClaimReport", "check_claims", "identifiers_in"]

MIN_OVERLAP = 0.5
# Fewer content words than this and no identifier: a connective ("Here is how:"), not a claim.
_MIN_CLAIM_WORDS = 3
_PREFIX = 5

_FENCE = re.compile(r"^\s*(```|~~~)")
_LIST_MARK = re.compile(r"^(\s*(?:[-*+]|\d+[.)])\s+)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'`*(\[¿¡]?[A-Z0-9ÁÉÍÓÚÑÇ])")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_PATH = re.compile(r"(?<![\w/])/[A-Za-z0-9_{}\-]+(?:/[A-Za-z0-9_{}\-.]+)*")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?(?![\w])")
_CHUNK_REF = re.compile(r"\[([^\[\]\s]+)\]")


@cache
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


@dataclass
class ClaimReport:
    text: str
    checked: int = 0
    unsupported: list[str] = field(default_factory=list)
    unverifiable: list[str] = field(default_factory=list)


def identifiers_in(sentence: str) -> list[str]:
    """Exact tokens a sentence states: code spans, CONSTANT_CODES, paths and numbers."""
    found = [m.strip() for m in CODE_SPAN.findall(sentence)]
    bare = CODE_SPAN.sub(" ", sentence)
    found += UPPER_SNAKE.findall(bare) + _PATH.findall(bare) + _NUMBER.findall(bare)
    return [f for f in found if f]


def _content_words(sentence: str) -> list[str]:
    prose = CODE_SPAN.sub(" ", sentence).casefold()
    stop = _stopwords()
    return [w for w in _WORD.findall(prose) if len(w) > 2 and w not in stop and not w.isdigit()]


@dataclass(frozen=True)
class _Passage:
    norm: str
    prefixes: frozenset[str]
    numbers: frozenset[str]


def _passage(text: str) -> _Passage:
    norm = normalise_for_match(text)
    words = _WORD.findall(norm)
    return _Passage(
        norm=norm,
        prefixes=frozenset(w[:_PREFIX] for w in words),
        numbers=frozenset(_NUMBER.findall(norm)),
    )


def _identifier_present(identifier: str, passage: _Passage) -> bool:
    if _NUMBER.fullmatch(identifier):
        return identifier.replace(",", ".") in passage.numbers or identifier in passage.numbers
    return normalise_for_match(identifier) in passage.norm


def _verdict(
    sentence: str, passages: Sequence[_Passage], *, lexical: bool, min_overlap: float
) -> str:
    # A link is judged by its text, and an inline reference is no claim of its own.
    sentence = _CHUNK_REF.sub(" ", MARKDOWN_LINK.sub(r"\1", sentence))
    identifiers = identifiers_in(sentence)
    words = _content_words(sentence)
    if not identifiers and (len(words) < _MIN_CLAIM_WORDS):
        return "skip"
    if not lexical and not identifiers:
        return "unverifiable"
    for passage in passages:
        if not all(_identifier_present(i, passage) for i in identifiers):
            continue
        if not lexical or not words:
            return "supported"
        found = sum(1 for w in words if w[:_PREFIX] in passage.prefixes)
        if found / len(words) >= min_overlap:
            return "supported"
    return "unsupported"


def _split_line(line: str) -> tuple[str, list[str]]:
    mark = _LIST_MARK.match(line)
    prefix = mark.group(1) if mark else ""
    body = line[len(prefix) :]
    return prefix, [s for s in _SENTENCE_END.split(body) if s.strip()]


def check_claims(
    answer: str,
    citations: Sequence[Citation],
    hits: Sequence[Hit],
    *,
    lexical: bool = True,
    min_overlap: float = MIN_OVERLAP,
) -> ClaimReport:
    """The answer without its unsupported sentences, and what was found."""
    by_id = {hit.chunk_id: hit for hit in hits}
    cited = [_passage(by_id[c.chunk_id].text) for c in citations if c.chunk_id in by_id]
    report = ClaimReport(text="")
    kept_lines: list[str] = []
    in_code = False
    for line in answer.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
            kept_lines.append(line)
            continue
        if in_code or not line.strip() or line.lstrip().startswith(("#", "|", ">")):
            kept_lines.append(line)
            continue
        prefix, sentences = _split_line(line)
        kept: list[str] = []
        for sentence in sentences:
            refs = [by_id[r] for r in _CHUNK_REF.findall(sentence) if r in by_id]
            passages = [_passage(h.text) for h in refs] or cited
            verdict = _verdict(sentence, passages, lexical=lexical, min_overlap=min_overlap)
            if verdict != "skip":
                report.checked += 1
            if verdict == "unsupported":
                report.unsupported.append(sentence.strip())
                continue
            if verdict == "unverifiable":
                report.unverifiable.append(sentence.strip())
            kept.append(sentence)
        if kept:
            kept_lines.append(prefix + " ".join(kept))
    report.text = re.sub(r"\n{3,}", "\n\n", "\n".join(kept_lines)).strip()
    return report
