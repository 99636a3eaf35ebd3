"""Keep only citations that the retrieved documentation actually supports.

A drafter (LLM or offline) proposes `(chunk_id, quote)` pairs; a citation survives only
if the chunk was among the retrieved hits and the quote really occurs in that chunk's
text.  Matching forgives what a faithful copy legitimately changes: whitespace, case,
markdown emphasis, backticks, link syntax, typographic quotes/dashes, and an ellipsis
joining exact fragments in order.  A minimum length keeps "the" from passing as
evidence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict

from pydantic import BaseModel

from app.triage.draft.markup_patterns import MARKDOWN_LINK
from app.triage.results import Citation
from ingest.retrieval import Hit

__all__ = [
    "MIN_FRAGMENT_CHARS",
    "MIN_QUOTE_CHARS",
    "ProposedCitation",
    "RejectedCitation",
    "found_in_order",
    "normalise_for_match",
    "quote_fragments",
    "validate_citations",
]

MIN_QUOTE_CHARS = 20
MIN_FRAGMENT_CHARS = 8

RejectReason = Literal["malformed", "unknown_chunk", "too_short", "not_found", "duplicate"]


class ProposedCitation(BaseModel):
    chunk_id: str
    quote: str


class RejectedCitation(TypedDict):
    chunk_id: str
    quote: str
    reason: RejectReason


_UNDERSCORE_EMPHASIS = re.compile(r"(?<!\w)_+|_+(?!\w)")
_ELLIPSIS = re.compile(r"\s*(?:…|\.{3,})\s*")
_TYPOGRAPHY = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "–": "-",
        "—": "-",
        "‐": "-",
        "‑": "-",
        "*": None,
        "`": None,
    }
)
_EDGE_PUNCTUATION = " \t\n\"'.,;:"


def normalise_for_match(text: str) -> str:
    """The comparison form of a text; applied identically to quotes and chunk text."""
    text = unicodedata.normalize("NFKC", text)
    text = MARKDOWN_LINK.sub(r"\1", text)
    text = text.translate(_TYPOGRAPHY)
    text = _UNDERSCORE_EMPHASIS.sub("", text)
    return " ".join(text.split()).casefold()


def quote_fragments(quote: str) -> list[str]:
    parts = (normalise_for_match(p).strip(_EDGE_PUNCTUATION) for p in _ELLIPSIS.split(quote))
    return [p for p in parts if p]


def found_in_order(fragments: list[str], haystack: str) -> bool:
    position = 0
    for fragment in fragments:
        index = haystack.find(fragment, position)
        if index < 0:
            return False
        position = index + len(fragment)
    return True


def _fields(item: object) -> tuple[object, object]:
    if isinstance(item, Mapping):
        return item.get("chunk_id"), item.get("quote")
    return getattr(item, "chunk_id", None), getattr(item, "quote", None)


def validate_citations(
    proposed: Sequence[ProposedCitation | Mapping[str, Any]],
    hits: Sequence[Hit],
    *,
    min_quote_chars: int = MIN_QUOTE_CHARS,
) -> tuple[list[Citation], list[RejectedCitation]]:
    """Split proposals into kept citations (source fields from the hit) and rejections."""
    by_id: dict[str, Hit] = {}
    for candidate in hits:
        by_id.setdefault(candidate.chunk_id, candidate)
    haystacks: dict[str, str] = {}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    kept: list[Citation] = []
    rejected: list[RejectedCitation] = []

    def reject(chunk_id: str, quote: str, reason: RejectReason) -> None:
        rejected.append({"chunk_id": chunk_id, "quote": quote, "reason": reason})

    for item in proposed:
        chunk_id, quote = _fields(item)
        if not (isinstance(chunk_id, str) and isinstance(quote, str)):
            reject(str(chunk_id or ""), str(quote or ""), "malformed")
            continue
        hit = by_id.get(chunk_id)
        if hit is None:
            reject(chunk_id, quote, "unknown_chunk")
            continue
        fragments = quote_fragments(quote)
        if sum(len(f) for f in fragments) < min_quote_chars or any(
            len(f) < MIN_FRAGMENT_CHARS for f in fragments
        ):
            reject(chunk_id, quote, "too_short")
            continue
        if chunk_id not in haystacks:
            haystacks[chunk_id] = normalise_for_match(hit.text)
        if not found_in_order(fragments, haystacks[chunk_id]):
            reject(chunk_id, quote, "not_found")
            continue
        key = (chunk_id, tuple(fragments))
        if key in seen:
            reject(chunk_id, quote, "duplicate")
            continue
        seen.add(key)
        kept.append(
            Citation(
                chunk_id=chunk_id,
                doc_id=hit.doc_id,
                source=hit.source,
                url=hit.url,
                quote=" ".join(quote.split()),
            )
        )
    return kept, rejected
