"""Where the passage screener meets the index: at ingest and at query time.

At ingest a chunk is screened once, and the verdict travels in its metadata
(``untrusted``, ``untrusted_reasons``, ``untrusted_line``, plus ``screened``: the
vocabulary version that judged it).  At query time every hit is screened again from its
text (cached by chunk id), so chunks indexed before the screener existed, or judged by an
older vocabulary, are caught too; an ingest-time verdict (hidden markup, seen only in the
source file) is honoured as well.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from ingest.corpus_view import MemoryCorpus, Where
from ingest.corpus_view import StoredLike as _Stored
from ingest.types import MetadataValue
from ingest.untrusted import REASONS, PassageScreener, Screening, line_of, vocabulary
from ingest.untrusted_links import LinkFacts, allowed_from_facts, derive_allowed_domains

log = logging.getLogger(__name__)

_FRONT_MATTER_URL = re.compile(r"(?m)^url:[ \t]*[\"']?(https?://[^\s\"']+)")

META_FLAG = "untrusted"
META_REASONS = "untrusted_reasons"
META_LINE = "untrusted_line"
META_VERSION = "screened"
META_KEYS = frozenset({META_FLAG, META_REASONS, META_LINE, META_VERSION})
# Bumped when the screening logic (not its vocabulary) changes, so `triage ingest`
# re-screens stored chunks.
_LOGIC = "2"


def screen_version(screener: PassageScreener) -> str:
    return f"{screener.version}.{_LOGIC}"


@dataclass(frozen=True)
class ChunkFlag:
    reasons: tuple[str, ...]
    line: int


def screener_for_files(
    files: Iterable[Path],
    manifest: Mapping[str, Mapping[str, object]],
    extras: Iterable[str] = (),
    *,
    max_bytes: int = 20 * 1024 * 1024,
) -> PassageScreener:
    """A screener whose own domains come from the files about to be ingested."""
    doc_urls = [str(row["url"]) for row in manifest.values() if isinstance(row.get("url"), str)]
    texts: dict[str, list[str]] = {}
    for path in files:
        try:
            if path.stat().st_size > max_bytes:
                continue
            text = path.read_text("utf-8", errors="replace")
        except OSError:
            continue
        texts[str(path)] = [text]
        doc_urls += _FRONT_MATTER_URL.findall(text[:4000])
    return _screener_for_doc_set(doc_urls, texts, extras)


def _screener_for_doc_set(
    doc_urls: Iterable[str], texts: Mapping[str, Sequence[str]], extras: Iterable[str]
) -> PassageScreener:
    """A screener allowing the doc set's own domains: its published URLs, the domains
    many of its pages link to (judged by a screener that allows none), and `extras`."""
    vocab = vocabulary()
    judge = PassageScreener(frozenset(), vocab)
    allowed = derive_allowed_domains(doc_urls, texts, vocab.links, extras, judge.poisoned)
    return PassageScreener(allowed, vocab)


def flag_chunks(
    screener: PassageScreener, raw: str, texts: Sequence[str]
) -> list[ChunkFlag | None]:
    """One verdict per chunk of one document.  A page is distrusted as a whole: once any
    of its chunks (or hidden markup in its file) is flagged, its other chunks are too,
    so a benign-looking paragraph of a phishing page cannot be quoted either."""
    page = screener.screen_source(raw)
    own = [screener.screen(text) for text in texts]
    reasons = _merge(page.reasons, *(s.reasons for s in own))
    if not reasons:
        return [None] * len(texts)
    lines = [
        line_of(raw, s.findings[0].evidence, text) if s.flagged else 0
        for s, text in zip(own, texts, strict=True)
    ]
    page_line = raw.count("\n", 0, page.findings[0].start) + 1 if page.flagged else 0
    first = next((line for line in lines if line), page_line)
    return [
        ChunkFlag(_merge(s.reasons, page.reasons), line)
        if s.flagged
        else ChunkFlag(reasons, page_line or first)
        for s, line in zip(own, lines, strict=True)
    ]


def flag_metadata(flag: ChunkFlag | None, version: str) -> dict[str, MetadataValue]:
    """Every key, every time: Chroma merges metadata on update, so a chunk that is no
    longer flagged must have its old verdict overwritten, not left behind."""
    return {
        META_VERSION: version,
        META_FLAG: flag is not None,
        META_REASONS: ",".join(flag.reasons) if flag else "",
        META_LINE: flag.line if flag else 0,
    }


def flag_row(meta: Mapping[str, Any], chunk_id: str) -> dict[str, Any]:
    """How `triage ingest` and `triage search --flagged` report a flagged chunk."""
    return {
        "source": str(meta.get("source", "")),
        "line": int(meta.get(META_LINE, 0) or 0),
        "doc_id": str(meta.get("doc_id", "")),
        "chunk_id": chunk_id,
        "reasons": list(stored_reasons(meta)),
    }


def stored_reasons(meta: Mapping[str, Any]) -> tuple[str, ...]:
    if not meta.get(META_FLAG):
        return ()
    return tuple(r for r in str(meta.get(META_REASONS, "")).split(",") if r)


def _merge(*groups: Iterable[str]) -> tuple[str, ...]:
    found = {r for g in groups for r in g}
    return tuple(r for r in REASONS if r in found)


# -- query time ---------------------------------------------------------------------


class _Passage(Protocol):
    @property
    def chunk_id(self) -> str: ...

    @property
    def text(self) -> str: ...


P = TypeVar("P", bound=_Passage)


@dataclass(frozen=True)
class _PageFlags:
    own: Mapping[str, tuple[str, ...]]
    whole: tuple[str, ...]


@runtime_checkable
class CorpusView(Protocol):
    """The index read on demand (ingest/corpus_view.py): one page, or the link facts."""

    def doc_chunks(self, doc_id: str, where: Where | None = None) -> Sequence[_Stored]: ...

    def link_facts(self) -> LinkFacts: ...


class HitScreen:
    """Screens retrieved passages for one revision of the collection; thread-safe.

    Nothing is read per chunk up front: the doc set's own domains come from the index's
    link facts, and a hit's ingest-time verdicts from its own page's chunks, read when a
    hit of that page is first screened.
    """

    _MAX_CACHE = 50_000
    _MAX_PAGES = 4096

    def __init__(
        self,
        chunks: CorpusView | Sequence[_Stored],
        revision: int,
        extras: Iterable[str] = (),
    ):
        self.revision = revision
        corpus: CorpusView = (
            chunks if isinstance(chunks, CorpusView) else MemoryCorpus(list(chunks))
        )
        self._corpus = corpus
        vocab = vocabulary()
        judge = PassageScreener(frozenset(), vocab)
        allowed = allowed_from_facts(corpus.link_facts(), vocab.links, extras, judge.poisoned)
        self.screener = PassageScreener(allowed, vocab)
        self._cache: dict[str, tuple[str, ...]] = {}
        self._pages: OrderedDict[str, _PageFlags] = OrderedDict()
        self._lock = threading.Lock()

    def _page(self, doc_id: str) -> _PageFlags:
        """Ingest-time verdicts of one page: per chunk id, and merged over the page."""
        with self._lock:
            found = self._pages.get(doc_id)
            if found is not None:
                self._pages.move_to_end(doc_id)
                return found
        own: dict[str, tuple[str, ...]] = {}
        whole: tuple[str, ...] = ()
        # Verdicts are written as booleans (flag_metadata): only flagged chunks are read.
        for chunk in self._corpus.doc_chunks(doc_id, {META_FLAG: True}):
            if reasons := stored_reasons(chunk.metadata):
                own[chunk.chunk_id] = reasons
                # A page is keyed as the writer keyed it: a chunk without a doc id is its own.
                if str(chunk.metadata.get("doc_id", chunk.chunk_id)) == doc_id:
                    whole = _merge(whole, reasons)
        flags = _PageFlags(own, whole)
        with self._lock:
            self._pages[doc_id] = flags
            while len(self._pages) > self._MAX_PAGES:
                self._pages.popitem(last=False)
        return flags

    def reasons(self, passage: _Passage) -> tuple[str, ...]:
        key = passage.chunk_id
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        screening: Screening = self.screener.screen(passage.text)
        # A page flagged at ingest is distrusted as a whole (see flag_chunks).
        doc_id = str(getattr(passage, "doc_id", "") or "")
        # A stored chunk names its page in its metadata; a hit carries it as `doc_id`.
        meta = getattr(passage, "metadata", None)
        home = str(meta.get("doc_id", "")) if isinstance(meta, Mapping) else doc_id
        reasons = _merge(
            screening.reasons,
            self._page(home).own.get(key, ()),
            self._page(doc_id).whole,
        )
        with self._lock:
            if len(self._cache) >= self._MAX_CACHE:
                self._cache.clear()
            self._cache[key] = reasons
        return reasons

    def split(self, passages: Sequence[P]) -> tuple[list[P], list[P]]:
        """(usable, flagged), each in the original order."""
        usable: list[P] = []
        flagged: list[P] = []
        for passage in passages:
            reasons = self.reasons(passage)
            if reasons:
                log.warning(
                    "untrusted passage withheld: %s (%s)", passage.chunk_id, ",".join(reasons)
                )
                flagged.append(passage)
            else:
                usable.append(passage)
        return usable, flagged


# -- a corpus without an index (bench/untrusted_docs.py, the corpus tests) ---------------


@dataclass(frozen=True)
class ScanResult:
    docs: int
    chunks: int
    flagged: list[dict[str, Any]]


def scan_corpus(
    root: Path,
    *,
    exclude: Sequence[str] = (),
    use_manifest: bool = True,
    max_tokens: int = 200,
    overlap_tokens: int = 30,
    min_tokens: int = 40,
    extras: Iterable[str] = (),
    max_bytes: int = 20 * 1024 * 1024,
) -> ScanResult:
    """What `triage ingest` would flag under `root`: same loaders, chunker and screener,
    nothing embedded or stored."""
    from ingest.chunking import chunk_markdown
    from ingest.discovery import discover
    from ingest.loaders import load_file
    from ingest.types import LoadError

    root = root.resolve()
    found = discover(root, exclude=exclude, use_manifest=use_manifest)
    screener = screener_for_files(found.files, found.manifest, extras, max_bytes=max_bytes)
    docs = chunks = 0
    flagged: list[dict[str, Any]] = []
    for path in found.files:
        rel = path.relative_to(root if root.is_dir() else root.parent).as_posix()
        try:
            loaded = load_file(
                path, root, max_bytes=max_bytes, manifest_row=found.manifest.get(rel)
            )
            raw = path.read_text("utf-8", errors="replace")
        except (LoadError, OSError):
            continue
        for doc in loaded:
            docs += 1
            pieces = chunk_markdown(
                doc.doc_id,
                doc.text,
                max_tokens=max_tokens,
                overlap_tokens=overlap_tokens,
                min_tokens=min_tokens,
            )
            chunks += len(pieces)
            for piece, flag in zip(
                pieces, flag_chunks(screener, raw, [p.text for p in pieces]), strict=True
            ):
                if flag is not None:
                    own = screener.screen(piece.text)
                    evidence = own.findings[0].evidence if own.flagged else "(hidden markup)"
                    flagged.append(
                        {
                            "source": doc.source,
                            "line": flag.line,
                            "doc_id": doc.doc_id,
                            "chunk_index": piece.index,
                            "reasons": list(flag.reasons),
                            "evidence": evidence,
                        }
                    )
    return ScanResult(docs, chunks, flagged)
