"""Parts of the indexed corpus read on demand: one document's chunks, and the link facts
the passage screener derives the doc set's own domains from.

The section lookup and the query-time screener used to read every chunk into memory at
first use (gigabytes at a million chunks, and a copy per process beside the shared,
memory-mapped lexical index).  They now ask for what one hit needs: a document's chunks
come from the segment's document span (a few pages of its memory map), and the link
facts from a small summary each segment keeps beside its chunks (`links.json`), which
names documents, URLs and linked hosts by position, never texts.  A summary is written
with the segment; a segment written before summaries existed gets one at first use.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from ingest.untrusted import PassageScreener, vocabulary
from ingest.untrusted_links import LinkFacts, hosts_in
from ingest.untrusted_links import link_facts as memory_link_facts
from ingest.vectorstore import StoredChunk

LINKS_FILE = "links.json"
_LINKS_VERSION = 2

Runs = list[list[int]]


class StoredLike(Protocol):
    @property
    def chunk_id(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def metadata(self) -> Mapping[str, Any]: ...


class SegmentLike(Protocol):
    directory: Path

    @property
    def size(self) -> int: ...

    def chunk(self, position: int) -> StoredChunk: ...

    def chunks(self) -> Iterable[StoredChunk]: ...

    def doc_span(self, doc_id: str) -> tuple[int, int] | None: ...

    def raw(self, position: int) -> bytes: ...

    def positions_containing(self, lo: int, hi: int, needle: bytes) -> list[int]: ...


def doc_key(chunk: StoredLike) -> str:
    """How the screener groups chunks into pages (a chunk without a doc id is its own)."""
    return str(chunk.metadata.get("doc_id", chunk.chunk_id))


# -- a segment's summary ----------------------------------------------------------------


def _runs(positions: Iterable[int]) -> Runs:
    out: Runs = []
    for p in positions:
        if out and out[-1][1] == p:
            out[-1][1] = p + 1
        else:
            out.append([p, p + 1])
    return out


def link_summary(ordered: Iterable[StoredLike]) -> dict[str, Any]:
    """Positions of each page, each published URL and each (linked host, page) pair, and
    of the linking texts the screener's judge finds poisoned (under its vocabulary's
    digest): judged once per segment, not by every process after every revision."""
    judge = PassageScreener(frozenset(), vocabulary())
    poisoned: dict[str, list[int]] = {}
    docs: dict[str, list[int]] = {}
    urls: dict[str, list[int]] = {}
    hosts: dict[str, dict[str, list[int]]] = {}
    for position, chunk in enumerate(ordered):
        key = doc_key(chunk)
        docs.setdefault(key, []).append(position)
        url = chunk.metadata.get("doc_url")
        if isinstance(url, str):
            urls.setdefault(url, []).append(position)
        linked = hosts_in(chunk.text)
        for host in linked:
            hosts.setdefault(host, {}).setdefault(key, []).append(position)
        if linked and judge.poisoned(chunk.text):
            for host in linked:
                poisoned.setdefault(host, []).append(position)
    return {
        "version": _LINKS_VERSION,
        "vocabulary": judge.version,
        "poisoned": {h: _runs(v) for h, v in poisoned.items()},
        "docs": {k: _runs(v) for k, v in docs.items()},
        "urls": {k: _runs(v) for k, v in urls.items()},
        "hosts": {h: {k: _runs(v) for k, v in by.items()} for h, by in hosts.items()},
    }


def write_link_summary(directory: Path, ordered: Iterable[StoredLike]) -> dict[str, Any]:
    summary = link_summary(ordered)
    tmp = directory / f"{LINKS_FILE}.{uuid.uuid4().hex}.tmp"
    tmp.write_text(json.dumps(summary))
    os.replace(tmp, directory / LINKS_FILE)
    return summary


def read_link_summary(segment: SegmentLike) -> dict[str, Any]:
    """The segment's summary; built (and kept, when the directory is writable) if missing."""
    try:
        data: dict[str, Any] = json.loads((segment.directory / LINKS_FILE).read_text())
        if data.get("version") == _LINKS_VERSION and data.get("vocabulary") == vocabulary().digest:
            return data
    except (FileNotFoundError, json.JSONDecodeError):
        pass
    try:
        return write_link_summary(segment.directory, segment.chunks())
    except OSError:
        return link_summary(segment.chunks())


# -- over the live chunks of several segments ----------------------------------------------


def _live(runs: Runs, alive: np.ndarray[Any, Any] | None) -> Iterator[int]:
    for a, b in runs:
        if alive is None:
            yield from range(a, b)
        else:
            yield from (a + int(i) for i in np.flatnonzero(alive[a:b]))


def _any_live(runs: Runs, alive: np.ndarray[Any, Any] | None) -> bool:
    return alive is None or any(bool(alive[a:b].any()) for a, b in runs)


def segment_link_facts(
    segments: Sequence[SegmentLike], alive: Sequence[np.ndarray[Any, Any] | None]
) -> LinkFacts:
    docs: set[str] = set()
    urls: set[str] = set()
    poisoned: set[str] = set()
    docs_by_host: dict[str, set[str]] = {}
    linking: dict[str, list[tuple[int, int]]] = {}
    for s, (segment, mask) in enumerate(zip(segments, alive, strict=True)):
        summary = read_link_summary(segment)
        docs.update(k for k, runs in summary["docs"].items() if _any_live(runs, mask))
        urls.update(u for u, runs in summary["urls"].items() if _any_live(runs, mask))
        poisoned.update(h for h, runs in summary["poisoned"].items() if _any_live(runs, mask))
        for host, by_doc in summary["hosts"].items():
            for key, runs in by_doc.items():
                positions = [(s, p) for p in _live(runs, mask)]
                if positions:
                    docs_by_host.setdefault(host, set()).add(key)
                    linking.setdefault(host, []).extend(positions)

    def texts_linking(host: str) -> Iterator[str]:
        for s, p in linking.get(host, ()):
            yield str(segments[s].chunk(p).text)

    return LinkFacts(frozenset(urls), len(docs), docs_by_host, texts_linking, frozenset(poisoned))


Where = Mapping[str, str | bool | int]


def matches(meta: Mapping[str, Any], where: Where | None) -> bool:
    """Every `where` key holds exactly that value (type included: True is not 1)."""
    return not where or all(
        type(meta.get(k)) is type(v) and meta.get(k) == v for k, v in where.items()
    )


def segment_doc_chunks(
    segments: Sequence[SegmentLike],
    alive: Sequence[np.ndarray[Any, Any] | None],
    doc_id: str,
    where: Where | None = None,
) -> list[StoredChunk]:
    """The live chunks whose `doc_id` is `doc_id` (and whose metadata matches `where`), in
    index order (segment, then position)."""
    # A segment line is json.dumps([id, text, metadata]): a chunk whose metadata holds
    # k: v holds these bytes, so lines without them are skipped unparsed (a large page's
    # hundreds of chunks cost one byte scan of the map, not a JSON parse each).
    needles = [f"{json.dumps(k)}: {json.dumps(v)}".encode() for k, v in (where or {}).items()]
    out: list[StoredChunk] = []
    for segment, mask in zip(segments, alive, strict=True):
        span = segment.doc_span(doc_id)
        if span is None:
            continue
        lo, hi = span
        if needles:
            candidates = [
                p
                for p in segment.positions_containing(lo, hi, needles[0])
                if all(n in segment.raw(p) for n in needles[1:])
            ]
        else:
            candidates = list(range(lo, hi))
        for position in candidates:
            if mask is not None and not mask[position]:
                continue
            chunk = segment.chunk(position)
            meta = chunk.metadata
            if str(meta.get("doc_id", "")) == doc_id and matches(meta, where):
                out.append(chunk)
    return out


# -- a corpus held in memory (the reference index, tests) ----------------------------------


C = TypeVar("C", bound=StoredLike)


class MemoryCorpus(Generic[C]):
    """The same two views over a list of chunks already in memory."""

    def __init__(self, chunks: Sequence[C]) -> None:
        self._chunks = chunks
        self._by_doc: dict[str, list[C]] | None = None

    def doc_chunks(self, doc_id: str, where: Where | None = None) -> list[C]:
        if self._by_doc is None:
            by_doc: dict[str, list[C]] = {}
            for chunk in self._chunks:
                by_doc.setdefault(str(chunk.metadata.get("doc_id", "")), []).append(chunk)
            self._by_doc = by_doc
        return [c for c in self._by_doc.get(doc_id, []) if matches(c.metadata, where)]

    def link_facts(self) -> LinkFacts:
        texts: dict[str, list[str]] = {}
        urls: list[str] = []
        for chunk in self._chunks:
            texts.setdefault(doc_key(chunk), []).append(chunk.text)
            if isinstance(chunk.metadata.get("doc_url"), str):
                urls.append(str(chunk.metadata["doc_url"]))
        return memory_link_facts(urls, texts)
