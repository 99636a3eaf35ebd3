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
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ingest.untrusted import REASONS, PassageScreener, Screening, line_of, vocabulary
from ingest.untrusted_links import derive_allowed_domains

log = logging.getLogger(__name__)

_FRONT_MATTER_URL = re.compile(r"(?m)^url:[ \t]*[\"']?(https?://[^\s\"']+)")

META_FLAG = "untrusted"
META_REASONS = "untrusted_reasons"
META_LINE = "untrusted_line"
META_VERSION = "screened"
META_KEYS = frozenset({META_FLAG, META_REASONS, META_LINE, META_VERSION})


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
    vocab = vocabulary()
    judge = PassageScreener(frozenset(), vocab)
    allowed = derive_allowed_domains(doc_urls, texts, vocab.links, extras, judge.poisoned)
    return PassageScreener(allowed, vocab)


def flag_chunks(
    screener: PassageScreener, raw: str, texts: Sequence[str]
) -> list[ChunkFlag | None]:
    """One verdict per chunk text; hidden markup in the file distrusts all its chunks."""
    page = screener.screen_source(raw)
    page_line = raw.count("\n", 0, page.findings[0].start) + 1 if page.flagged else 0
    out: list[ChunkFlag | None] = []
    for text in texts:
        own = screener.screen(text)
        if not own.flagged and not page.flagged:
            out.append(None)
            continue
        reasons = _merge(own.reasons, page.reasons)
        line = line_of(raw, own.findings[0].evidence, text) if own.flagged else page_line
        out.append(ChunkFlag(reasons, line))
    return out


def flag_metadata(flag: ChunkFlag | None, version: str) -> dict[str, str | int | bool]:
    meta: dict[str, str | int | bool] = {META_VERSION: version}
    if flag is not None:
        meta.update({META_FLAG: True, META_REASONS: ",".join(flag.reasons), META_LINE: flag.line})
    return meta


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


class _Stored(Protocol):
    @property
    def chunk_id(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def metadata(self) -> Mapping[str, Any]: ...


class HitScreen:
    """Screens retrieved passages for one revision of the collection; thread-safe."""

    _MAX_CACHE = 50_000

    def __init__(self, chunks: Sequence[_Stored], revision: int, extras: Iterable[str] = ()):
        self.revision = revision
        texts: dict[str, list[str]] = defaultdict(list)
        doc_urls: set[str] = set()
        self._stored: dict[str, tuple[str, ...]] = {}
        for chunk in chunks:
            meta = chunk.metadata
            texts[str(meta.get("doc_id", chunk.chunk_id))].append(chunk.text)
            if isinstance(meta.get("doc_url"), str):
                doc_urls.add(str(meta["doc_url"]))
            if reasons := stored_reasons(meta):
                self._stored[chunk.chunk_id] = reasons
        vocab = vocabulary()
        judge = PassageScreener(frozenset(), vocab)
        allowed = derive_allowed_domains(doc_urls, texts, vocab.links, extras, judge.poisoned)
        self.screener = PassageScreener(allowed, vocab)
        self._cache: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def reasons(self, passage: _Passage) -> tuple[str, ...]:
        key = passage.chunk_id
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        screening: Screening = self.screener.screen(passage.text)
        reasons = _merge(screening.reasons, self._stored.get(key, ()))
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
