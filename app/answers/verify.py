"""Is a reusable answer still backed by the docs it quotes?

A citation holds the doc id, the quote and the doc revision (``doc_hash``) it was
checked against.  Same revision and the chunk still there: nothing to do.  Otherwise
the quote is looked for in the doc's current chunks (with the drafter's own matching
rules: whitespace, case, markdown, ellipses); found, the citation moves to the new
chunk and revision; not found, or the doc is gone, the answer no longer stands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.triage.draft.citations import (
    found_in_order,
    normalise_for_match,
    quote_fragments,
)
from ingest.vectorstore import KnowledgeBaseStore


def quote_found(quote: str, text: str) -> bool:
    """True when every ellipsis-separated fragment of ``quote`` occurs in ``text`` in order
    (the drafter's own citation matching, app/triage/draft/citations.py)."""
    fragments = quote_fragments(quote)
    return bool(fragments) and found_in_order(fragments, normalise_for_match(text))


@dataclass(frozen=True)
class DocChunk:
    chunk_id: str
    text: str
    doc_hash: str


@dataclass
class DocTexts:
    """The current chunks of each doc, read once per re-verification run."""

    store: KnowledgeBaseStore
    _cache: dict[str, list[DocChunk]] = field(default_factory=dict)

    def chunks(self, doc_id: str) -> list[DocChunk]:
        if doc_id not in self._cache:
            metas = self.store.all_metadata({"doc_id": doc_id}) if doc_id else []
            texts = self.store.texts_for([chunk_id for chunk_id, _ in metas])
            self._cache[doc_id] = [
                DocChunk(chunk_id, texts.get(chunk_id, ""), str(meta.get("doc_hash", "")))
                for chunk_id, meta in metas
            ]
        return self._cache[doc_id]


@dataclass(frozen=True)
class Verdict:
    """``citations`` re-pointed at the current revision, or the reason the answer fails."""

    citations: list[dict[str, Any]]
    changed: bool
    failure: str | None = None


def _short(quote: str, limit: int = 80) -> str:
    flat = " ".join(quote.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def verify_citations(citations: Sequence[Mapping[str, Any]], docs: DocTexts) -> Verdict:
    updated: list[dict[str, Any]] = []
    changed = False
    for raw in citations:
        citation = dict(raw)
        doc_id = str(citation.get("doc_id", ""))
        chunks = docs.chunks(doc_id)
        if not chunks:
            return Verdict([], False, f"{doc_id or 'a cited doc'} is no longer in the docs")
        same_revision = citation.get("doc_hash") and any(
            c.doc_hash == citation["doc_hash"] and c.chunk_id == citation.get("chunk_id")
            for c in chunks
        )
        if same_revision:
            updated.append(citation)
            continue
        quote = str(citation.get("quote", ""))
        holder = next((c for c in chunks if quote_found(quote, c.text)), None)
        if holder is None:
            return Verdict(
                [], False, f"quoted text is no longer in {doc_id}: \u201c{_short(quote)}\u201d"
            )
        if holder.chunk_id != citation.get("chunk_id") or holder.doc_hash != citation.get(
            "doc_hash"
        ):
            citation["chunk_id"], citation["doc_hash"] = holder.chunk_id, holder.doc_hash
            changed = True
        updated.append(citation)
    return Verdict(updated, changed)
