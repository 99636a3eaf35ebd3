"""The non-generative drafter: a reply composed of the documentation's own sentences.

It picks the sentences (and at most one code example) from the retrieved
chunks that best cover the question's terms, keeps them in the order the docs
give them, groups them by source and cites every one with its deep link.  Each
quote is an exact slice of the chunk text, so every citation checks out.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from app.triage.drafting.base import DraftRequest
from app.triage.drafting.phrases import phrase
from app.triage.models import Citation, DraftReply, Provenance
from ingest.retrieval import Hit, expand_identifiers

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_'-]*")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?](?![A-Za-z0-9])|$)(?:[\"')\]]*)")
_FENCE = re.compile(r"^\s*(```+|~~~+)")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_HOW_TO = re.compile(
    r"\b(how|example|sample|code|curl|snippet|c[oó]mo|ejemplo|exemplo|como)\b", re.IGNORECASE
)
_MIN_WORDS, _MAX_WORDS = 5, 70
_MAX_CODE_LINES = 25


@cache
def _stop_words() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | {"grid", "api", "hi", "hello", "thanks", "please", "get"}


@cache
def _stemmer() -> object:
    import Stemmer

    return Stemmer.Stemmer("english")


def terms(text: str) -> set[str]:
    words = [w.lower() for w in _WORD.findall(expand_identifiers(text))]
    stop = _stop_words()
    kept = [w for w in words if w not in stop and len(w) > 1]
    return set(_stemmer().stemWords(kept))  # type: ignore[attr-defined]


@dataclass
class _Unit:
    hit_rank: int
    position: int
    quote: str
    is_code: bool
    terms: set[str]
    score: float = 0.0


def _blocks(text: str) -> Iterator[tuple[int, str, bool]]:
    """(offset, block, is_code) for paragraphs, list items and fenced code."""
    offset = 0
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            start = offset
            body = [line]
            i += 1
            offset += len(line)
            while i < len(lines):
                body.append(lines[i])
                offset += len(lines[i])
                i += 1
                if _FENCE.match(body[-1]):
                    break
            yield start, "".join(body).rstrip("\n"), True
            continue
        yield offset, line.rstrip("\n"), False
        offset += len(line)
        i += 1


def _units(hit_rank: int, text: str) -> Iterator[_Unit]:
    for offset, block, is_code in _blocks(text):
        if is_code:
            if block.count("\n") <= _MAX_CODE_LINES:
                yield _Unit(hit_rank, offset, block, True, terms(block))
            continue
        stripped = block.strip()
        if not stripped or stripped.startswith(("#", "|", "<", "{", "}")):
            continue
        marker = _LIST_MARK.match(block)
        body_start = marker.end() if marker else 0
        for match in _SENTENCE.finditer(block, body_start):
            quote = match.group(0).strip()
            words = len(quote.split())
            if _MIN_WORDS <= words <= _MAX_WORDS and not quote.endswith(":"):
                yield _Unit(hit_rank, offset + match.start(), quote, False, terms(quote))


class OfflineDrafter:
    """Grounded replies without a language model."""

    name = "offline"

    def __init__(self, *, max_sentences: int = 4, per_source: int = 2, min_coverage: float = 0.2):
        self.max_sentences = max_sentences
        self.per_source = per_source
        self.min_coverage = min_coverage

    def draft(self, request: DraftRequest) -> DraftReply:
        started = time.perf_counter()
        query = " ".join([request.question, *request.signals.error_codes])
        query_terms = terms(query)
        units = [u for rank, hit in enumerate(request.hits) for u in _units(rank, hit.text)]
        chosen, code, coverage = self._select(units, query_terms, request)
        provenance = Provenance(
            drafter="offline",
            retrieved_chunk_ids=[h.chunk_id for h in request.hits],
        )
        if not chosen:
            provenance.latency_ms = round((time.perf_counter() - started) * 1000, 2)
            return DraftReply(
                text="",
                confidence=0.0,
                needs_human=True,
                reason="insufficient_documentation",
                language=request.language,
                provenance=provenance,
            )
        text, citations = self._compose(chosen, code, request)
        provenance.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        return DraftReply(
            text=text,
            citations=citations,
            confidence=self._confidence(request.hits, coverage),
            needs_human=False,
            language=request.language,
            provenance=provenance,
        )

    # -- selection ------------------------------------------------------------------
    def _select(
        self, units: list[_Unit], query_terms: set[str], request: DraftRequest
    ) -> tuple[list[_Unit], _Unit | None, float]:
        if not units or not query_terms:
            return [], None, 0.0
        df: dict[str, int] = {}
        for unit in units:
            for term in unit.terms & query_terms:
                df[term] = df.get(term, 0) + 1
        # Only terms the retrieved docs use at all count towards coverage: chatty words
        # ("hey", "guys", "prod is on fire") must not make a well-supported answer look thin.
        present = {t for t in query_terms if df.get(t)}
        if not present:
            return [], None, 0.0
        n = len(units)
        idf = {t: math.log(1 + n / df[t]) for t in present}
        total = sum(idf.values()) or 1.0
        for unit in units:
            coverage = sum(idf[t] for t in unit.terms & present) / total
            unit.score = coverage + 0.1 / (1 + unit.hit_rank)
        prose = sorted((u for u in units if not u.is_code), key=lambda u: u.score, reverse=True)
        chosen: list[_Unit] = []
        per_hit: dict[int, int] = {}
        covered: set[str] = set()
        for unit in prose:
            if unit.score - 0.1 / (1 + unit.hit_rank) < self.min_coverage / 2:
                break
            if per_hit.get(unit.hit_rank, 0) >= self.per_source:
                continue
            if chosen and not (unit.terms & present) - covered and unit.score < prose[0].score:
                continue  # adds nothing the reply does not already say
            chosen.append(unit)
            covered |= unit.terms & present
            per_hit[unit.hit_rank] = per_hit.get(unit.hit_rank, 0) + 1
            if len(chosen) >= self.max_sentences:
                break
        best_coverage = sum(idf[t] for t in covered) / total
        if best_coverage < self.min_coverage or len(covered) < min(2, len(present)):
            return [], None, best_coverage
        code = None
        if _HOW_TO.search(request.question):
            sources = {u.hit_rank for u in chosen}
            candidates = [u for u in units if u.is_code and u.hit_rank in sources]
            if candidates:
                code = max(candidates, key=lambda u: (u.score, -u.hit_rank))
        return chosen, code, best_coverage

    @staticmethod
    def _confidence(hits: list[Hit], coverage: float) -> float:
        dense = max((h.dense_score or 0.0 for h in hits), default=0.0)
        dense_norm = min(max((dense - 0.25) / 0.45, 0.0), 1.0)
        return round(min(max(0.6 * dense_norm + 0.4 * min(coverage, 1.0), 0.0), 1.0), 3)

    # -- composition ----------------------------------------------------------------
    def _compose(
        self, chosen: list[_Unit], code: _Unit | None, request: DraftRequest
    ) -> tuple[str, list[Citation]]:
        language = request.language
        by_hit: dict[int, list[_Unit]] = {}
        for unit in chosen:
            by_hit.setdefault(unit.hit_rank, []).append(unit)
        citations: list[Citation] = []
        lines = [phrase("intro", language), ""]
        numbers: dict[int, int] = {}
        for rank in sorted(by_hit):
            hit = request.hits[rank]
            numbers[rank] = len(numbers) + 1
            marker = f"[{numbers[rank]}]"
            sentences = sorted(by_hit[rank], key=lambda u: u.position)
            body = " ".join(f"{u.quote} {marker}" for u in sentences)
            lines.append(f"- **{hit.title}**: {body}")
            citations.extend(_citation(hit, u.quote) for u in sentences)
        if code is not None:
            hit = request.hits[code.hit_rank]
            if code.hit_rank not in numbers:
                numbers[code.hit_rank] = len(numbers) + 1
            lines += ["", f"{phrase('code', language)} [{numbers[code.hit_rank]}]", code.quote]
            first_line = next((ln for ln in code.quote.splitlines()[1:] if ln.strip()), code.quote)
            citations.append(_citation(hit, first_line.strip()))
        lines += ["", phrase("sources", language)]
        for rank, number in sorted(numbers.items(), key=lambda kv: kv[1]):
            hit = request.hits[rank]
            where = hit.url or hit.source
            section = f" ({hit.heading})" if hit.heading else ""
            lines.append(f"[{number}] {hit.title}{section}: {where}")
        lines += ["", phrase("closing", language)]
        return "\n".join(lines), citations


def _citation(hit: Hit, quote: str) -> Citation:
    return Citation(
        chunk_id=hit.chunk_id, doc_id=hit.doc_id, source=hit.source, url=hit.url, quote=quote
    )
