"""The persisted BM25 index: built once, shared by every process, updated per document.

A directory holds immutable segments (ingest/lexical_segment.py) and `manifest.json`,
replaced atomically, naming the live segments, each one's deleted positions, the
Chroma collection they mirror and its revision.  Readers memory-map the segments, so
processes on one machine share their pages; a reader only re-reads the manifest and
opens the segments it has not opened yet.

The sync writes a delta segment holding the current chunks of the documents it touched
and tombstones their old chunks, then bumps the collection's revision.  A reader that
sees Chroma ahead of the manifest (another collection, an older writer, another
machine's sync) rebuilds the index from Chroma once, under a file lock, for everyone.
A crash between writing Chroma and the delta leaves `pending.json`, which the next
sync replays from Chroma before anything else.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ingest.corpus_view import Where, segment_doc_chunks, segment_link_facts
from ingest.lexical_segment import FORMAT, K1, B, Segment, tokenize, write_segment
from ingest.search_filters import SearchFilters
from ingest.untrusted_links import LinkFacts
from ingest.vectorstore import StoredChunk

__all__ = ["LexicalStore", "SearchFilters", "SegmentedIndex"]  # SearchFilters: its old home

# Deltas are folded into a new base once they hold this share of it (or this many
# segments): queries then touch a few posting lists, not dozens.
_COMPACT_SHARE = 0.10
_COMPACT_MIN = 2_000
_MAX_SEGMENTS = 12


class SegmentedIndex:
    """BM25 over the live chunks of some segments, as of one manifest generation."""

    def __init__(
        self,
        segments: Sequence[Segment],
        deleted: Sequence[np.ndarray[Any, Any] | None],
        revision: int,
        generation: str,
    ) -> None:
        self.segments = list(segments)
        self.alive: list[np.ndarray[Any, Any] | None] = []
        live, length = 0, 0
        for segment, gone in zip(self.segments, deleted, strict=True):
            if gone is None or not len(gone):
                self.alive.append(None)
                live += segment.size
                length += int(segment.lengths.sum(dtype=np.int64))
                continue
            mask = np.ones(segment.size, dtype=bool)
            mask[gone] = False
            self.alive.append(mask)
            live += int(mask.sum())
            length += int(segment.lengths[mask].sum(dtype=np.int64))
        self.size = live
        self.avg_length = length / live if live else 0.0
        self.revision = revision
        self.generation = generation
        self._chunks: list[StoredChunk] | None = None

    def doc_chunks(self, doc_id: str, where: Where | None = None) -> list[StoredChunk]:
        """The live chunks of one document, in index order (the section lookup's read)."""
        return segment_doc_chunks(self.segments, self.alive, doc_id, where)

    def link_facts(self) -> LinkFacts:
        """What the passage screener derives own domains from, without reading texts."""
        return segment_link_facts(self.segments, self.alive)

    @property
    def chunks(self) -> list[StoredChunk]:
        """Every live chunk, read once on demand and kept (listings and evals only)."""
        if self._chunks is None:
            out: list[StoredChunk] = []
            for segment, alive in zip(self.segments, self.alive, strict=True):
                for position in range(segment.size):
                    if alive is None or alive[position]:
                        out.append(segment.chunk(position))
            self._chunks = out
        return self._chunks

    def search(
        self, query: str, n: int, filters: SearchFilters | None = None
    ) -> list[tuple[StoredChunk, float]]:
        if not self.size or not query.strip() or n <= 0:
            return []
        filters = filters or SearchFilters()
        counts = Counter(tokenize([query])[0])
        postings = [{t: seg.postings_for(t) for t in counts} for seg in self.segments]
        idf: dict[bytes, float] = {}
        for term in counts:
            df = 0
            for found, alive in zip(postings, self.alive, strict=True):
                p = found[term]
                if p is not None:
                    df += len(p.positions) if alive is None else int(alive[p.positions].sum())
            if df:
                idf[term] = math.log(1 + (self.size - df + 0.5) / (df + 0.5))
        if not idf:
            return []
        found_hits: list[tuple[float, int, int]] = []
        for s, (segment, alive) in enumerate(zip(self.segments, self.alive, strict=True)):
            top = self._segment_top(segment, alive, postings[s], idf, counts, n, filters)
            found_hits += [(score, s, p) for score, p in top]
        # Ties go to the earlier arrival; scores are rounded as bm25s's float32 sums are.
        found_hits.sort(
            key=lambda h: (-round(h[0], 5), h[1], int(self.segments[h[1]].arrival[h[2]]))
        )
        return [(self.segments[s].chunk(p), score) for score, s, p in found_hits[:n]]

    def _segment_top(
        self,
        segment: Segment,
        alive: np.ndarray[Any, Any] | None,
        postings: dict[bytes, Any],
        idf: dict[bytes, float],
        counts: Counter[bytes],
        n: int,
        filters: SearchFilters,
    ) -> list[tuple[float, int]]:
        lo, hi = (0, segment.size)
        if filters.source_prefix:
            lo, hi = segment.prefix_range(filters.source_prefix)
        codes = segment.kind_codes(filters.kinds) if filters.kinds else None
        if hi <= lo or (codes is not None and not len(codes)):
            return []
        positions: list[np.ndarray[Any, Any]] = []
        weights: list[np.ndarray[Any, Any]] = []
        norm = K1 * (1 - B)
        for term, p in postings.items():
            if p is None or term not in idf:
                continue
            pos, tf = p.positions, p.tfs
            if (lo, hi) != (0, segment.size):
                a, b = np.searchsorted(pos, [lo, hi])
                pos, tf = pos[a:b], tf[a:b]
            if alive is not None:
                keep = alive[pos]
                pos, tf = pos[keep], tf[keep]
            tf = tf.astype(np.float64)
            lengths = segment.lengths[pos]
            denom = norm + K1 * B * lengths / self.avg_length + tf
            positions.append(pos)
            weights.append(idf[term] * counts[term] * tf / denom)
        if not positions:
            return []
        pos_all = np.concatenate(positions)
        if not len(pos_all):
            return []
        weight_all = np.concatenate(weights)
        if len(pos_all) * 4 < hi - lo:
            # Few postings in a big segment: sum per touched chunk, not over the whole range.
            touched, inverse = np.unique(pos_all, return_inverse=True)
            scores = np.bincount(inverse, weights=weight_all)
        else:
            touched = None
            scores = np.bincount(pos_all - lo, weights=weight_all, minlength=hi - lo)
        if codes is not None:
            # The kind filter reads each scored chunk's kind once, after the terms are summed,
            # not once per posting of every term (common terms have thousands of postings).
            kinds = segment.kind[touched] if touched is not None else segment.kind[lo:hi]
            scores[~np.isin(kinds, codes)] = 0.0
        top = np.flatnonzero(scores > 0)
        if len(top) > n:
            top = top[np.argpartition(-scores[top], n - 1)[:n]]
        if touched is not None:
            return [(float(scores[i]), int(touched[i])) for i in top]
        return [(float(scores[i]), int(i) + lo) for i in top]


class LexicalStore:
    """The index directory of one collection (a private temporary one when none is given)."""

    def __init__(self, directory: Path | None, heading_repeats: int) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="triage-lexical-")
            directory = Path(self._tmp.name)
        self.directory = directory
        self.heading_repeats = heading_repeats
        self._segments: dict[str, Segment] = {}
        self._current: SegmentedIndex | None = None
        # The sync and request threads of one process share this object.
        self._thread_lock = threading.RLock()

    # -- files ----------------------------------------------------------------------
    @property
    def _manifest_path(self) -> Path:
        return self.directory / "manifest.json"

    def manifest(self) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self._manifest_path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        # The heading weight changes every chunk's text: an index built with another is stale.
        fits = data.get("heading_repeats") == self.heading_repeats and data.get("format") == FORMAT
        return data if fits else None

    def _write_manifest(self, manifest: dict[str, Any]) -> None:
        tmp = self.directory / f"manifest.{uuid.uuid4().hex}.tmp"
        tmp.write_text(json.dumps(manifest))
        os.replace(tmp, self._manifest_path)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, (self.directory / "lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _new_segment(self, chunks: Sequence[StoredChunk]) -> str:
        name = f"seg-{uuid.uuid4().hex[:12]}"
        write_segment(self.directory / name, chunks, self.heading_repeats)
        return name

    # -- reading ----------------------------------------------------------------------
    def open(
        self, revision: int, collection_id: str, load_all: Callable[[], list[StoredChunk]]
    ) -> SegmentedIndex:
        """The index at `revision` or later; rebuilt from `load_all()` when stale."""
        manifest = self.manifest()
        if not self._fresh(manifest, revision, collection_id):
            with self._locked():
                manifest = self.manifest()  # another process may have rebuilt meanwhile
                if not self._fresh(manifest, revision, collection_id):
                    manifest = self._rebuild(load_all(), revision, collection_id)
        assert manifest is not None
        with self._thread_lock:
            for _ in range(3):
                try:
                    return self._snapshot(manifest)
                except FileNotFoundError:
                    # A writer compacted between our manifest read and the segment open.
                    manifest = self.manifest() or manifest
            return self._snapshot(manifest)

    @staticmethod
    def _fresh(manifest: dict[str, Any] | None, revision: int, collection_id: str) -> bool:
        return (
            manifest is not None
            and manifest["collection"] == collection_id
            and int(manifest["revision"]) >= revision
        )

    def _snapshot(self, manifest: dict[str, Any]) -> SegmentedIndex:
        current = self._current
        if current is not None and current.generation == manifest["generation"]:
            current.revision = int(manifest["revision"])
            return current
        segments, deleted = [], []
        for entry in manifest["segments"]:
            segment = self._segments.get(entry["name"])
            if segment is None:
                segment = Segment(self.directory / entry["name"])
                self._segments[entry["name"]] = segment
            segments.append(segment)
            gone = entry.get("deleted")
            deleted.append(np.load(self.directory / gone) if gone else None)
        live = {e["name"] for e in manifest["segments"]}
        self._segments = {k: v for k, v in self._segments.items() if k in live}
        self._current = SegmentedIndex(
            segments, deleted, int(manifest["revision"]), manifest["generation"]
        )
        return self._current

    # -- writing ----------------------------------------------------------------------
    def _rebuild(
        self, chunks: Sequence[StoredChunk], revision: int, collection_id: str
    ) -> dict[str, Any]:
        manifest = {
            "collection": collection_id,
            "revision": revision,
            "generation": uuid.uuid4().hex,
            "heading_repeats": self.heading_repeats,
            "format": FORMAT,
            "segments": [{"name": self._new_segment(chunks), "deleted": None}],
        }
        self._write_manifest(manifest)
        self._collect_garbage(manifest)
        return manifest

    def apply(
        self,
        doc_ids: set[str],
        current: Sequence[StoredChunk],
        revision: int,
        collection_id: str,
        load_all: Callable[[], list[StoredChunk]],
    ) -> None:
        """Replace the chunks of `doc_ids` by `current` (their chunks as Chroma holds them now)."""
        with self._locked():
            manifest = self.manifest()
            if manifest is None or manifest["collection"] != collection_id:
                self._rebuild(load_all(), revision, collection_id)
                self.clear_pending()
                return
            entries = []
            for entry in manifest["segments"]:
                segment = self._segments.get(entry["name"]) or Segment(
                    self.directory / entry["name"]
                )
                gone = (
                    set(np.load(self.directory / entry["deleted"]).tolist())
                    if entry["deleted"]
                    else set()
                )
                spans = segment.doc_spans()
                added = [
                    p for d in doc_ids if d in spans for p in range(*spans[d]) if p not in gone
                ]
                if added:
                    name = f"del-{uuid.uuid4().hex[:12]}.npy"
                    np.save(self.directory / name, np.array(sorted(gone | set(added)), np.int64))
                    entries.append({**entry, "deleted": name})
                else:
                    entries.append(entry)
            if current:
                entries.append({"name": self._new_segment(current), "deleted": None})
            manifest = {
                **manifest,
                "revision": max(revision, int(manifest["revision"]) + 1),
                "generation": uuid.uuid4().hex,
                "segments": entries,
            }
            if self._needs_compaction(entries):
                manifest = self._compact(manifest)
            self._write_manifest(manifest)
            self._collect_garbage(manifest)
            self.clear_pending()

    def _needs_compaction(self, entries: list[dict[str, Any]]) -> bool:
        if len(entries) > _MAX_SEGMENTS:
            return True
        sizes = [Segment(self.directory / e["name"]).size for e in entries]
        base = sizes[0] if sizes else 0
        return sum(sizes[1:]) > max(_COMPACT_MIN, _COMPACT_SHARE * base)

    def _compact(self, manifest: dict[str, Any]) -> dict[str, Any]:
        index = self._snapshot(manifest)
        name = self._new_segment(index.chunks)
        return {
            **manifest,
            "generation": uuid.uuid4().hex,
            "segments": [{"name": name, "deleted": None}],
        }

    def _collect_garbage(self, manifest: dict[str, Any]) -> None:
        # Readers that still map a removed segment keep its pages (POSIX unlink semantics).
        keep = {"manifest.json", "lock", "pending.json"}
        for entry in manifest["segments"]:
            keep.add(entry["name"])
            if entry.get("deleted"):
                keep.add(entry["deleted"])
        for path in self.directory.iterdir():
            if path.name not in keep and not path.name.endswith(".tmp"):
                shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)

    # -- crash journal ----------------------------------------------------------------
    def note_pending(self, doc_ids: set[str]) -> None:
        """Record documents about to change in Chroma, before they change."""
        with self._locked():
            pending = self.pending() | doc_ids
            tmp = self.directory / f"pending.{uuid.uuid4().hex}.tmp"
            tmp.write_text(json.dumps(sorted(pending)))
            os.replace(tmp, self.directory / "pending.json")

    def pending(self) -> set[str]:
        try:
            return set(json.loads((self.directory / "pending.json").read_text()))
        except (FileNotFoundError, json.JSONDecodeError):
            return set()

    def clear_pending(self) -> None:
        (self.directory / "pending.json").unlink(missing_ok=True)
