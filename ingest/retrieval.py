"""Hybrid retrieval: dense (Chroma) + lexical (BM25 via bm25s) fused by reciprocal rank.

Dense search finds paraphrases ("money never arrived" ~ "transfer failed"),
BM25 finds the exact tokens developers paste (error codes, field names, paths);
reciprocal-rank fusion needs no score calibration between the two.  Hits from
the same section, or with identical text (the Grid docs repeat snippets across
product tabs), are collapsed so the top k carries k different answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import bm25s
import numpy as np
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel

from ingest.corpus_view import MemoryCorpus, Where
from ingest.dense_rows import dense_candidates
from ingest.lexical_segment import english_stemmer, expand_identifiers, lexical_text
from ingest.lexical_store import LexicalStore, SegmentedIndex
from ingest.multilingual import english_query
from ingest.screening import HitScreen
from ingest.search_filters import SearchFilters
from ingest.untrusted_links import LinkFacts
from ingest.vectorstore import KnowledgeBaseStore, StoredChunk

Mode = Literal["hybrid", "dense", "lexical"]

__all__ = [
    "Fusion",
    "Hit",
    "HybridRetriever",
    "LexicalIndex",
    "SearchFilters",
    "expand_identifiers",
    "lexical_text",
]


class Hit(BaseModel):
    chunk_id: str
    doc_id: str
    source: str
    title: str
    url: str | None
    heading: str
    score: float
    text: str
    kind: str = ""
    dense_score: float | None = None
    lexical_score: float | None = None

    @classmethod
    def from_chunk(
        cls,
        chunk: StoredChunk,
        score: float = 0.0,
        *,
        dense_score: float | None = None,
        lexical_score: float | None = None,
    ) -> Hit:
        """A stored chunk as a hit, its fields read from the chunk's metadata."""
        meta = chunk.metadata
        return cls(
            chunk_id=chunk.chunk_id,
            doc_id=str(meta.get("doc_id", "")),
            source=str(meta.get("source", "")),
            title=str(meta.get("title", "")),
            url=str(meta["url"]) if meta.get("url") else None,
            heading=str(meta.get("heading", "")),
            score=score,
            text=chunk.text,
            kind=str(meta.get("kind", "")),
            dense_score=dense_score,
            lexical_score=lexical_score,
        )


def _tokenize(texts: list[str]) -> Any:
    return bm25s.tokenize(
        [expand_identifiers(t) for t in texts],
        stopwords="en",
        stemmer=english_stemmer().stemWords,
        show_progress=False,
    )


@dataclass(frozen=True)
class Fusion:
    """How the dense and lexical rankings become one (bench/retrieval.py measures it)."""

    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    # Each chunk also gets this share of the best fused score of the other chunks of its
    # document: a page matching the question in several places outranks a lone snippet.
    doc_weight: float = 0.0
    # Title and heading path weigh twice in BM25: a page about the thing asked wins over a
    # page that merely mentions it.  Measured on the tune rows of Grid, BTCPay and Stellar
    # (bench/retrieval_sweep.py): BTCPay hit@5 +2.5 points, Grid and Stellar unchanged,
    # MRR up on BTCPay; document evidence and other weights lost on at least one corpus.
    heading_repeats: int = 2


class LexicalIndex:
    """Reference BM25 over chunks held in memory (bm25s), built in one go.

    The retriever serves the persisted index (ingest/lexical_store.py); this one stays
    for the ranking-parity test and for sweeps that rebuild with other heading weights.
    """

    def __init__(self, chunks: list[StoredChunk], revision: int, heading_repeats: int) -> None:
        self.chunks = chunks
        self.revision = revision
        self._model: Any = None
        self._corpus: MemoryCorpus[StoredChunk] = MemoryCorpus(chunks)
        if chunks:
            self._model = bm25s.BM25()
            texts = [lexical_text(c, heading_repeats) for c in chunks]
            self._model.index(_tokenize(texts), show_progress=False)

    def doc_chunks(self, doc_id: str, where: Where | None = None) -> list[StoredChunk]:
        return self._corpus.doc_chunks(doc_id, where)

    def link_facts(self) -> LinkFacts:
        return self._corpus.link_facts()

    def search(
        self, query: str, n: int, filters: SearchFilters | None = None
    ) -> list[tuple[StoredChunk, float]]:
        if self._model is None or not query.strip():
            return []
        mask = None
        if filters is not None and filters.active:
            mask = np.array([filters.accepts(c.metadata) for c in self.chunks], dtype=float)
        tokens = _tokenize([query])
        if not tokens.vocab:
            return []
        n = min(n, len(self.chunks))
        docs, scores = self._model.retrieve(
            tokens, k=n, show_progress=False, weight_mask=mask, n_threads=1
        )
        out = []
        for idx, score in zip(docs[0], scores[0], strict=True):
            if score > 0:
                out.append((self.chunks[int(idx)], float(score)))
        return out


class HybridRetriever:
    """Query side of the knowledge base; safe to share between threads."""

    def __init__(
        self,
        store: KnowledgeBaseStore,
        embeddings: Embeddings,
        *,
        rrf_k: int = 60,
        candidates: int = 30,
        refresh_seconds: float = 2.0,
        allowed_domains: Sequence[str] = (),
        translate: Callable[[str], str | None] | None = english_query,
        fusion: Fusion | None = None,
        lexical_dir: Path | None = None,
    ) -> None:
        self.fusion = fusion or Fusion()
        # Persisted and shared by every process given the same directory; without one,
        # a private temporary directory (rebuilt from Chroma once per process).
        self.lexical_store = LexicalStore(lexical_dir, self.fusion.heading_repeats)
        self.store = store
        # Spanish/Portuguese questions are searched as their English gloss: the model,
        # the stemmer and the docs are English (ingest/multilingual.py).
        self.translate = translate
        self.embeddings = embeddings
        self.rrf_k = rrf_k
        self.candidates = candidates
        self.refresh_seconds = refresh_seconds
        self._lexical: LexicalIndex | SegmentedIndex | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self.allowed_domains = tuple(allowed_domains)
        self._screen: HitScreen | None = None

    # -- lexical index lifecycle ----------------------------------------------------
    def lexical_index(self) -> LexicalIndex | SegmentedIndex:
        now = time.monotonic()
        with self._lock:
            current = self._lexical
            if current is not None and now - self._checked_at < self.refresh_seconds:
                return current
            self._checked_at = now
            if isinstance(current, LexicalIndex):
                return current  # an index a sweep put in place stays as given
            if not self.store.exists():
                current = SegmentedIndex([], [], -1, "")
            else:
                # Re-reads the manifest only; segments already open stay mapped, and
                # Chroma ahead of the index (another writer) means one shared rebuild.
                current = self.lexical_store.open(
                    self.store.revision(), self.store.identity(), self.store.all_chunks
                )
            self._lexical = current
            return current

    # -- untrusted passages -----------------------------------------------------------
    def hit_screen(self) -> HitScreen:
        """The passage screener for the current revision (own domains derived from it)."""
        index = self.lexical_index()
        with self._lock:
            screen = self._screen
            if screen is None or screen.revision != index.revision:
                screen = HitScreen(index, index.revision, self.allowed_domains)
                self._screen = screen
            return screen

    def screen(self, hits: Sequence[Hit]) -> tuple[list[Hit], list[Hit]]:
        """(usable, flagged): a flagged passage must never reach a draft, prompt or reply."""
        return self.hit_screen().split(hits)

    # -- search ---------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 5,
        *,
        filters: SearchFilters | None = None,
        mode: Mode = "hybrid",
        extra_terms: Sequence[str] = (),
    ) -> list[Hit]:
        filters = filters or SearchFilters()
        if not self.store.exists():
            return []
        pool = self.candidates * (3 if filters.source_prefix else 1)
        english = self.translate(query) if self.translate else None
        query = english or query
        dense: list[tuple[StoredChunk, float]] = []
        lexical: list[tuple[StoredChunk, float]] = []
        if mode in ("hybrid", "dense"):
            vector = self.embeddings.embed_query(query)
            dense = self._dense(vector, pool, filters)
        if mode in ("hybrid", "lexical"):
            index = self.lexical_index()
            lexical_query = " ".join([query, *extra_terms])
            # Filters cut the posting lists inside the index (no pass over all chunks).
            lexical = index.search(lexical_query, pool, filters)
        return self._fuse(dense, lexical, k)

    def _dense(
        self, vector: list[float], pool: int, filters: SearchFilters
    ) -> list[tuple[StoredChunk, float]]:
        # Chroma pre-filters a `where` through its metadata table: measured 10x slower than
        # the plain vector search at 100k chunks (bench/scale.py).  Filter a wider plain
        # search instead, and let Chroma pre-filter only for a kind too rare to show up.
        asked = pool * 3 if filters.kinds else pool
        index = self.lexical_index()
        if isinstance(index, SegmentedIndex) and index.size:
            # Ids from Chroma, rows from the mapped segments (ingest/dense_rows.py).
            ranked = self.store.query_ids(vector, asked)
            wide = dense_candidates(index, ranked, filters, self.store.chunks_by_id)
        else:
            wide = [
                (c, s) for c, s in self.store.query(vector, asked) if filters.accepts(c.metadata)
            ]
        if not filters.kinds or len(wide) >= min(pool, 5):
            return wide[:pool]
        where = filters.chroma_where()
        return [
            (c, s) for c, s in self.store.query(vector, pool, where) if filters.accepts(c.metadata)
        ]

    def _fuse(
        self,
        dense: list[tuple[StoredChunk, float]],
        lexical: list[tuple[StoredChunk, float]],
        k: int,
    ) -> list[Hit]:
        scores: dict[str, float] = {}
        chunks: dict[str, StoredChunk] = {}
        dense_scores: dict[str, float] = {}
        lexical_scores: dict[str, float] = {}
        weighted = (
            (dense, dense_scores, self.fusion.dense_weight),
            (lexical, lexical_scores, self.fusion.lexical_weight),
        )
        for ranking, store_into, weight in weighted:
            rank, previous = -1, None
            for position, (chunk, raw) in enumerate(ranking):
                # Equal scores share a rank (the docs repeat snippets across product tabs,
                # so BM25 ties are common): the other ranking decides between them, not
                # the order the index happened to hold them in.
                if previous is None or round(raw, 5) != previous:
                    rank, previous = position, round(raw, 5)
                scores[chunk.chunk_id] = scores.get(chunk.chunk_id, 0.0) + weight / (
                    self.rrf_k + rank + 1
                )
                chunks[chunk.chunk_id] = chunk
                store_into[chunk.chunk_id] = raw
        if self.fusion.doc_weight:
            scores = self._with_doc_evidence(scores, chunks)
        ordered = sorted(scores, key=lambda cid: scores[cid], reverse=True)
        hits: list[Hit] = []
        seen_sections: set[tuple[str, str]] = set()
        seen_texts: set[str] = set()
        for cid in ordered:
            chunk = chunks[cid]
            meta = chunk.metadata
            section = (
                str(meta.get("doc_id", "")),
                str(meta.get("anchor", meta.get("heading", ""))),
            )
            text_key = str(meta.get("text_hash", cid))
            if section in seen_sections or text_key in seen_texts:
                continue
            seen_sections.add(section)
            seen_texts.add(text_key)
            hits.append(
                Hit.from_chunk(
                    chunk,
                    round(scores[cid], 6),
                    dense_score=dense_scores.get(cid),
                    lexical_score=lexical_scores.get(cid),
                )
            )
            if len(hits) >= k:
                break
        return hits

    def _with_doc_evidence(
        self, scores: dict[str, float], chunks: dict[str, StoredChunk]
    ) -> dict[str, float]:
        by_doc: dict[str, list[float]] = {}
        for cid, score in scores.items():
            by_doc.setdefault(str(chunks[cid].metadata.get("doc_id", "")), []).append(score)
        for doc_scores in by_doc.values():
            doc_scores.sort(reverse=True)  # once per document, not once per chunk
        boosted: dict[str, float] = {}
        for cid, score in scores.items():
            doc_scores = by_doc[str(chunks[cid].metadata.get("doc_id", ""))]
            others = doc_scores[1:] if doc_scores[0] == score else doc_scores[:1]
            boosted[cid] = score + self.fusion.doc_weight * (others[0] if others else 0.0)
        return boosted
