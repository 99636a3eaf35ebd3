"""One immutable, memory-mapped piece of the persisted BM25 index.

A segment stores term frequencies, not finished BM25 scores: the document frequency,
the number of documents and the average length are summed over every live segment
at query time, so a base segment plus small delta segments rank exactly as one index
rebuilt from scratch (bm25s's Lucene variant, k1=1.5, b=0.75, the tokenizer below).

Chunks are laid out sorted by source path, so a `source_prefix` filter is a range of
positions (two binary searches), and each posting list is sorted by position, so the
range cuts it without looking at other chunks; `kind` is a small code per chunk read
only for the postings the query touches.  Chunk texts and metadata sit in one file
read through a memory map, so a process touches only the pages of the hits it returns.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import mmap
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from ingest.corpus_view import write_link_summary
from ingest.vectorstore import StoredChunk

# Bumped whenever the files a segment holds change: older indexes are rebuilt.
FORMAT = 2
K1 = 1.5
B = 0.75
# Terms are stored as fixed-width bytes for binary search; longer ones (hashes, base64)
# are cut to this width on both the index and the query side.
TERM_BYTES = 48
_TF_MAX = np.iinfo(np.uint16).max
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_SNAKE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b")
_CAMEL = re.compile(r"\b[a-z]+(?:[A-Z][a-z0-9]+)+\b")
_CAMEL_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@cache
def english_stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@cache
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def expand_identifiers(text: str) -> str:
    """Add the words inside QUOTE_EXPIRED / createQuote so prose queries match them too."""
    extra = [m.group(0).replace("_", " ") for m in _SNAKE.finditer(text)]
    extra += [_CAMEL_SPLIT.sub(" ", m.group(0)) for m in _CAMEL.finditer(text)]
    return f"{text} {' '.join(extra)}" if extra else text


def tokenize(texts: Sequence[str]) -> list[list[bytes]]:
    """bm25s.tokenize's terms (lower case, English stopwords out, Snowball stems), as bytes."""
    stop = _stopwords()
    split = [
        [t for t in _TOKEN.findall(expand_identifiers(text).lower()) if t not in stop]
        for text in texts
    ]
    unique = sorted({t for doc in split for t in doc})
    stems = dict(zip(unique, english_stemmer().stemWords(unique), strict=True))
    return [[stems[t].encode("utf-8")[:TERM_BYTES] for t in doc] for doc in split]


def lexical_text(chunk: StoredChunk, heading_repeats: int) -> str:
    """What BM25 sees: title and heading path (repeated to weigh them up) then the text."""
    meta = chunk.metadata
    labels = " ".join(str(p) for p in (meta.get("title", ""), meta.get("heading", "")) if p)
    return " ".join(part for part in ([labels] * heading_repeats + [chunk.text]) if part)


def _sort_key(chunk: StoredChunk) -> tuple[str, str, int, str]:
    meta = chunk.metadata
    index = meta.get("chunk_index", 0)
    return (
        str(meta.get("source", "")),
        str(meta.get("doc_id", "")),
        int(index) if isinstance(index, int | float) else 0,
        chunk.chunk_id,
    )


def write_segment(
    directory: Path, chunks: Iterable[StoredChunk], heading_repeats: int, batch: int = 20_000
) -> int:
    """Write `chunks` as a new segment in `directory` (which must not exist yet)."""
    given = list(chunks)
    arrival = sorted(range(len(given)), key=lambda i: _sort_key(given[i]))
    ordered = [given[i] for i in arrival]
    tmp = directory.with_name(directory.name + ".tmp")
    tmp.mkdir(parents=True)
    vocab: dict[bytes, int] = {}
    term_parts: list[np.ndarray[Any, Any]] = []
    doc_parts: list[np.ndarray[Any, Any]] = []
    tf_parts: list[np.ndarray[Any, Any]] = []
    lengths = np.zeros(len(ordered), dtype=np.int32)
    for start in range(0, len(ordered), batch):
        docs = tokenize([lexical_text(c, heading_repeats) for c in ordered[start : start + batch]])
        ids = [np.array([vocab.setdefault(t, len(vocab)) for t in d], np.int64) for d in docs]
        sizes = np.array([len(d) for d in ids], dtype=np.int64)
        lengths[start : start + len(ids)] = sizes
        flat = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        positions = np.repeat(np.arange(start, start + len(ids), dtype=np.int64), sizes)
        keys, counts = np.unique(flat * len(ordered) + positions, return_counts=True)
        # Narrow types right away: a million chunks hold tens of millions of postings.
        term_parts.append((keys // max(len(ordered), 1)).astype(np.int32))
        doc_parts.append((keys % max(len(ordered), 1)).astype(np.int32))
        tf_parts.append(np.minimum(counts, _TF_MAX).astype(np.uint16))
    terms_by_id = np.array(list(vocab), dtype=f"S{TERM_BYTES}")
    rank = np.empty(len(vocab), dtype=np.int64)
    rank[np.argsort(terms_by_id, kind="stable")] = np.arange(len(vocab))
    term = (
        rank.astype(np.int32)[np.concatenate(term_parts)] if term_parts else np.zeros(0, np.int32)
    )
    doc = np.concatenate(doc_parts) if doc_parts else np.zeros(0, np.int32)
    tf = np.concatenate(tf_parts) if tf_parts else np.zeros(0, np.uint16)
    del term_parts, doc_parts, tf_parts
    order = np.lexsort((doc, term))
    np.save(tmp / "terms.npy", np.sort(terms_by_id))
    np.save(
        tmp / "indptr.npy",
        np.concatenate([[0], np.cumsum(np.bincount(term[order], minlength=len(vocab)))]),
    )
    np.save(tmp / "postings.npy", doc[order].astype(np.int32))
    np.save(tmp / "tfs.npy", tf[order].astype(np.uint16))
    np.save(tmp / "lengths.npy", lengths)
    # Equal scores are common (the docs repeat snippets): they rank in the order the
    # chunks came in (Chroma's), as one bm25s index over the same list would.
    np.save(tmp / "arrival.npy", np.array(arrival, dtype=np.int32))
    _write_columns(tmp, ordered)
    os.replace(tmp, directory)
    return len(ordered)


def _write_columns(directory: Path, ordered: Sequence[StoredChunk]) -> None:
    kinds = sorted({str(c.metadata.get("kind", "")) for c in ordered})
    code = {k: i for i, k in enumerate(kinds)}
    np.save(
        directory / "kind.npy",
        np.array([code[str(c.metadata.get("kind", ""))] for c in ordered], np.int16),
    )
    sources: list[str] = []
    starts: list[int] = []
    docs: dict[str, list[int]] = {}
    offsets = np.zeros(len(ordered) + 1, dtype=np.int64)
    with (directory / "chunks.jsonl").open("wb") as out:
        for i, chunk in enumerate(ordered):
            source = str(chunk.metadata.get("source", ""))
            if not sources or sources[-1] != source:
                sources.append(source)
                starts.append(i)
            span = docs.setdefault(str(chunk.metadata.get("doc_id", "")), [i, i])
            span[1] = i + 1
            line = json.dumps([chunk.chunk_id, chunk.text, dict(chunk.metadata)]).encode() + b"\n"
            out.write(line)
            offsets[i + 1] = offsets[i] + len(line)
    np.save(directory / "offsets.npy", offsets)
    # Chunk id -> row, as sorted 64-bit id hashes and their rows: dense search reads its
    # candidates' rows here instead of from Chroma's metadata table (ingest/dense_rows.py).
    hashes = np.array([id_hash(c.chunk_id) for c in ordered], dtype=np.uint64)
    by_hash = np.argsort(hashes, kind="stable")
    np.save(directory / "id_hashes.npy", hashes[by_hash])
    np.save(directory / "id_rows.npy", by_hash.astype(np.int64))
    np.save(directory / "source_starts.npy", np.array([*starts, len(ordered)], np.int64))
    (directory / "columns.json").write_text(json.dumps({"kinds": kinds, "sources": sources}))
    # Where each document's chunks are (contiguous, being sorted by source then doc id):
    # the writer tombstones a changed document's old chunks without reading them.
    (directory / "docs.json").write_text(json.dumps(docs))
    write_link_summary(directory, ordered)


def id_hash(chunk_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(chunk_id.encode(), digest_size=8).digest(), "little")


@dataclass(frozen=True)
class Postings:
    positions: np.ndarray[Any, Any]
    tfs: np.ndarray[Any, Any]


class Segment:
    """A written segment, opened read-only through memory maps."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        load = self._load
        self.terms = load("terms")
        self.indptr = load("indptr")
        self.postings = load("postings")
        self.tfs = load("tfs")
        self.lengths = np.asarray(load("lengths"))
        self.kind = load("kind")
        self.offsets = load("offsets")
        self.arrival = load("arrival")
        self.source_starts = np.asarray(load("source_starts"))
        columns = json.loads((directory / "columns.json").read_text())
        self.kinds: list[str] = columns["kinds"]
        self.sources: list[str] = columns["sources"]
        self.size = len(self.lengths)
        self._docs: dict[str, list[int]] | None = None
        # Absent from segments written before the id column existed (then dense_rows finds
        # a row from the id's document span instead).
        has_ids = (directory / "id_hashes.npy").is_file()
        self.id_hashes = load("id_hashes") if has_ids else None
        self.id_rows = load("id_rows") if has_ids else None
        with (directory / "chunks.jsonl").open("rb") as f:
            self._text = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if self.size else b""

    def _load(self, name: str) -> np.ndarray[Any, Any]:
        array: np.ndarray[Any, Any] = np.load(self.directory / f"{name}.npy", mmap_mode="r")
        return array

    def postings_for(self, term: bytes) -> Postings | None:
        at = int(np.searchsorted(self.terms, term))
        if at >= len(self.terms) or self.terms[at] != term:
            return None
        lo, hi = int(self.indptr[at]), int(self.indptr[at + 1])
        return Postings(np.asarray(self.postings[lo:hi]), np.asarray(self.tfs[lo:hi]))

    def prefix_range(self, prefix: str) -> tuple[int, int]:
        """Positions [lo, hi) of the chunks whose source starts with `prefix`."""
        first = bisect.bisect_left(self.sources, prefix)
        last = bisect.bisect_left(self.sources, prefix + "\U0010ffff", lo=first)
        return int(self.source_starts[first]), int(self.source_starts[last])

    def kind_codes(self, kinds: Sequence[str]) -> np.ndarray[Any, Any]:
        return np.array([i for i, k in enumerate(self.kinds) if k in kinds], dtype=np.int16)

    def doc_spans(self) -> dict[str, list[int]]:
        spans: dict[str, list[int]] = json.loads((self.directory / "docs.json").read_text())
        return spans

    def doc_span(self, doc_id: str) -> tuple[int, int] | None:
        """Positions [lo, hi) that hold the chunks of `doc_id` (others may lie between)."""
        if self._docs is None:
            self._docs = self.doc_spans()  # one entry per document, read once per segment
        span = self._docs.get(doc_id)
        return (span[0], span[1]) if span else None

    def positions_containing(self, lo: int, hi: int, needle: bytes) -> list[int]:
        """Positions in [lo, hi) whose stored line holds `needle` (one scan of the map;
        a needle holds no newline, JSON escapes them, so a match lies within one line)."""
        if not needle:
            return list(range(lo, hi))
        found: list[int] = []
        at, end = int(self.offsets[lo]), int(self.offsets[hi])
        while (at := self._text.find(needle, at, end)) >= 0:
            position = int(np.searchsorted(self.offsets, at, side="right")) - 1
            found.append(position)
            at = int(self.offsets[position + 1])  # on to the next line
        return found

    def raw(self, position: int) -> bytes:
        """The chunk's stored line, unparsed."""
        return bytes(self._text[int(self.offsets[position]) : int(self.offsets[position + 1])])

    def rows_for_id(self, chunk_id: str) -> list[int] | None:
        """Rows whose id hashes like `chunk_id`'s (verify with `starts_with`); None when
        the segment has no id column."""
        if self.id_hashes is None or self.id_rows is None:
            return None
        wanted = np.uint64(id_hash(chunk_id))
        lo = int(np.searchsorted(self.id_hashes, wanted, side="left"))
        hi = int(np.searchsorted(self.id_hashes, wanted, side="right"))
        return [int(self.id_rows[i]) for i in range(lo, hi)]

    def starts_with(self, position: int, prefix: bytes) -> bool:
        """Whether the chunk's stored line starts with `prefix` (reads only that much)."""
        start = int(self.offsets[position])
        return bytes(self._text[start : start + len(prefix)]) == prefix

    def chunk(self, position: int) -> StoredChunk:
        chunk_id, text, meta = json.loads(self.raw(position))
        return StoredChunk(chunk_id, text, meta)

    def chunks(self) -> Iterable[StoredChunk]:
        for position in range(self.size):
            yield self.chunk(position)
