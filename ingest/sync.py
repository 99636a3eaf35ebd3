"""Keep a Chroma collection in step with documentation sources.

Chroma itself is the only state: every chunk carries its document's content
hash, the file's hash, how many chunks the document has and how many documents
the file produced.  That makes the index self-describing, so a run can decide
without any side table:

* a file whose hash and documents are all present and complete is skipped
  without even being parsed (zero embedding calls);
* a document is *complete* when all its chunks carry one document hash and their
  number equals the recorded chunk count; anything else (a crash between the
  write of new chunks and the delete of old ones, a half-written batch) is
  rewritten on the next run;
* embeddings are reused by content hash from any chunk already in the
  collection, so renames and small edits re-embed only what really changed;
* documents whose files disappeared are pruned.

With a JobQueue (`triage ingest --enqueue`) the same run only plans: documents to write
become embedding jobs for other processes or machines (ingest/embed_jobs.py), and the
deletions and the lexical update wait for the run's finish job.

This module decides what changed; ingest/index_state.py reads what is stored and
ingest/chunk_writer.py writes (new chunks before stale ones are deleted, so a
`kill -9` at any point leaves either the old or the new version searchable and
never a hole).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from langchain_core.embeddings import Embeddings

from ingest.chunk_writer import ChunkWriter, PendingDoc, WriteQueue
from ingest.chunking import CHUNKER_VERSION, chunk_markdown
from ingest.discovery import discover
from ingest.index_state import DocState, load_doc_states, text_hash_index
from ingest.lexical_store import LexicalStore
from ingest.loaders import load_file
from ingest.screening import (
    META_VERSION,
    flag_chunks,
    flag_metadata,
    flag_row,
    screen_version,
    screener_for_files,
)
from ingest.sync_report import ProgressCallback, SyncProgress, SyncReport
from ingest.types import LoadError, sha256_hex
from ingest.untrusted import PassageScreener
from ingest.vectorstore import KnowledgeBaseStore

# Documents are embedded together until this many chunks are waiting: big batches keep
# the model busy, small enough that a crash loses little finished work.
_EMBED_GROUP = 256


class JobQueue(WriteQueue, Protocol):
    """Embedding jobs in the database (ingest/embed_jobs.py): the sync only plans."""

    def seal(self, touched: set[str], delete: list[str]) -> None:
        """All writes are queued: `delete` (chunks of vanished documents) and the lexical
        update of `touched` documents wait until every job of the run is done."""


@dataclass(frozen=True)
class ChunkingOptions:
    max_tokens: int = 200
    overlap_tokens: int = 30
    min_tokens: int = 40

    @property
    def signature(self) -> str:
        """Stored on every chunk: documents chunked otherwise are re-chunked."""
        return f"v{CHUNKER_VERSION}:{self.max_tokens}:{self.overlap_tokens}:{self.min_tokens}"


class Synchronizer:
    """Sync one or more roots into a KnowledgeBaseStore."""

    def __init__(
        self,
        store: KnowledgeBaseStore,
        embeddings: Embeddings,
        *,
        chunking: ChunkingOptions | None = None,
        exclude: Sequence[str] = (),
        use_manifest: bool = True,
        max_file_bytes: int = 20 * 1024 * 1024,
        progress: ProgressCallback | None = None,
        allowed_domains: Sequence[str] = (),
        lexical: LexicalStore | None = None,
        queue: JobQueue | None = None,
    ) -> None:
        self.store = store
        # With a queue, documents are embedded and written by whichever workers claim
        # the jobs, and deletions wait for them: nothing vanishes before its replacement.
        self.queue = queue
        self._deferred: list[str] = []
        # The shared BM25 index, updated with the documents this run touched; without
        # it readers notice the new revision and rebuild from Chroma.
        self.lexical = lexical
        self._touched: set[str] = set()
        self.embeddings = embeddings
        self.chunking = chunking or ChunkingOptions()
        self.exclude = list(exclude)
        self.use_manifest = use_manifest
        self.max_file_bytes = max_file_bytes
        self.progress = progress
        self.allowed_domains = list(allowed_domains)
        self._dirty = False
        self._screener = PassageScreener()

    # -- public -------------------------------------------------------------------
    def sync(self, roots: Iterable[Path]) -> SyncReport:
        started = time.monotonic()
        report = SyncReport()
        progress = SyncProgress()
        self._dirty = False
        # Documents a crashed run changed in Chroma but not yet in the lexical index.
        self._touched = self.lexical.pending() if self.lexical else set()
        self._deferred = []
        for root in roots:
            self._sync_root(Path(root), report, progress)
        if self.queue is not None:
            self.queue.seal(self._touched, self._deferred)
            report.seconds = time.monotonic() - started
            return report
        if self.lexical is not None and self._touched:
            self.lexical.apply(
                self._touched,
                self.store.chunks_for_docs(sorted(self._touched)),
                self.store.revision() + 1,
                self.store.identity(),
                self.store.all_chunks,
            )
        if self._dirty or self._touched:
            self.store.bump_revision()
        report.seconds = time.monotonic() - started
        return report

    # -- one root -------------------------------------------------------------------
    def _sync_root(self, root: Path, report: SyncReport, progress: SyncProgress) -> None:
        root = root.resolve()
        if not root.exists():
            raise FileNotFoundError(f"{root}: no such file or directory")
        base = root if root.is_dir() else root.parent
        root_key = str(root)
        found = discover(root, exclude=self.exclude, use_manifest=self.use_manifest)
        # The doc set's own domains come from this root's pages, before any is judged.
        self._screener = screener_for_files(
            found.files, found.manifest, self.allowed_domains, max_bytes=self.max_file_bytes
        )
        state = load_doc_states(self.store, root_key)
        by_source: dict[str, set[str]] = defaultdict(set)
        for doc_id, doc_state in state.items():
            by_source[doc_state.source].add(doc_id)
        writer = ChunkWriter(
            self.store,
            self.embeddings,
            root_key=root_key,
            state=state,
            text_hash_ids=text_hash_index(self.store),
            screen_version=screen_version(self._screener),
            chunking=self.chunking.signature,
            queue=self.queue,
        )

        progress.files_total += len(found.files)
        pending: list[PendingDoc] = []
        seen_sources: set[str] = set()
        for path in found.files:
            rel = path.relative_to(base).as_posix()
            seen_sources.add(rel)
            self._sync_file(
                path,
                base,
                rel,
                found.manifest.get(rel),
                state,
                by_source.get(rel, set()),
                pending,
                report,
            )
            if sum(len(p.chunks) for p in pending) >= _EMBED_GROUP:
                self._flush(writer, pending, report, progress)
                pending.clear()
            progress.files_done += 1
            self._notify(progress)
        if pending:
            self._flush(writer, pending, report, progress)
        for source, doc_ids in by_source.items():
            if source not in seen_sources:
                for doc_id in doc_ids:
                    self._delete_doc(state[doc_id], report)
        self._notify(progress)

    def _touch(self, doc_ids: set[str]) -> None:
        """Journal documents before their chunks change in Chroma (see lexical_store)."""
        if self.lexical is not None and not doc_ids <= self._touched:
            self.lexical.note_pending(doc_ids)
        self._touched |= doc_ids

    def _delete_doc(self, doc_state: DocState, report: SyncReport) -> None:
        self._touch(_doc_ids(doc_state))
        if self.queue is not None:
            self._deferred += sorted(doc_state.ids)
            report.chunks_deleted += len(doc_state.ids)
        else:
            report.chunks_deleted += self.store.delete(sorted(doc_state.ids))
        report.docs_deleted += 1
        self._dirty = True

    def _sync_file(
        self,
        path: Path,
        base: Path,
        rel: str,
        manifest_row: Mapping[str, object] | None,
        state: dict[str, DocState],
        previous_doc_ids: set[str],
        pending: list[PendingDoc],
        report: SyncReport,
    ) -> None:
        try:
            data = self._read_bounded(path)
        except LoadError as exc:
            self._record_failure(rel, exc.reason, report)
            return
        file_hash = sha256_hex(data)
        raw = data.decode("utf-8", errors="replace")
        previous = [state[d] for d in previous_doc_ids]
        if (
            previous
            and all(
                s.complete and s.file_hash == file_hash and s.chunking == self.chunking.signature
                for s in previous
            )
            and previous[0].file_docs == len(previous)
        ):
            report.docs_seen += len(previous)
            report.docs_unchanged += len(previous)
            for doc_state in previous:
                self._screen_stored(doc_state, raw, report)
            return
        try:
            docs = load_file(path, base, max_bytes=self.max_file_bytes, manifest_row=manifest_row)
        except LoadError as exc:
            self._record_failure(rel, exc.reason, report)
            return
        produced: set[str] = set()
        for doc in docs:
            produced.add(doc.doc_id)
            report.docs_seen += 1
            doc_hash = doc.content_hash
            existing = state.get(doc.doc_id)
            if (
                existing is not None
                and existing.complete
                and doc_hash in existing.doc_hashes
                and existing.chunking == self.chunking.signature
            ):
                report.docs_unchanged += 1
                if existing.file_hash != file_hash or existing.file_docs != len(docs):
                    self._refresh_file_fields(existing, file_hash, len(docs))
                self._screen_stored(existing, raw, report)
                continue
            chunks = chunk_markdown(
                doc.doc_id,
                doc.text,
                max_tokens=self.chunking.max_tokens,
                overlap_tokens=self.chunking.overlap_tokens,
                min_tokens=self.chunking.min_tokens,
            )
            if not chunks:
                # Nothing to index (an empty page): say so rather than count it as added.
                self._record_failure(doc.source, f"{doc.doc_id}: no text to index", report)
                report.docs_seen -= 1
                continue
            flags = flag_chunks(self._screener, raw, [c.text for c in chunks])
            pending.append(
                PendingDoc(doc, doc_hash, file_hash, len(docs), chunks, existing is None, flags)
            )
        for gone in previous_doc_ids - produced:
            self._delete_doc(state[gone], report)

    def _read_bounded(self, path: Path) -> bytes:
        try:
            size = path.stat().st_size
            if size > self.max_file_bytes:
                raise LoadError(
                    path, f"file is {size:,} bytes, over the {self.max_file_bytes:,}-byte limit"
                )
            return path.read_bytes()
        except OSError as exc:
            raise LoadError(path, exc.strerror or str(exc)) from exc

    @staticmethod
    def _record_failure(rel: str, reason: str, report: SyncReport) -> None:
        # A file that fails keeps whatever it had in the index (its source still counts
        # as seen, so nothing is pruned): losing nothing beats dropping good content
        # because of a broken edit.
        report.docs_failed += 1
        report.failures.append({"source": rel, "reason": reason})

    def _refresh_file_fields(self, state: DocState, file_hash: str, file_docs: int) -> None:
        # Another document of the same file changed: record the new file hash on this one
        # so the next run can skip the whole file without parsing it.
        ids = sorted(state.metas)
        self._touch(_doc_ids(state))
        updated = [{**state.metas[i], "file_hash": file_hash, "file_docs": file_docs} for i in ids]
        self.store.update_metadata(ids, updated)
        for i, meta in zip(ids, updated, strict=True):
            state.metas[i] = meta
        state.file_hash, state.file_docs = file_hash, file_docs
        self._dirty = True

    # -- writing ------------------------------------------------------------------
    def _flush(
        self,
        writer: ChunkWriter,
        pending: list[PendingDoc],
        report: SyncReport,
        progress: SyncProgress,
    ) -> None:
        self._touch({p.doc.doc_id for p in pending})
        writer.write(pending, report, progress)
        self._dirty = True
        self._notify(progress)

    # -- unchanged documents ------------------------------------------------------
    def _screen_stored(self, state: DocState, raw: str, report: SyncReport) -> None:
        """Report an unchanged document's flagged chunks; re-screen them first (from the
        stored text, no embedding) when the vocabulary changed or predates them."""
        ids = sorted(state.metas)
        version = screen_version(self._screener)
        if any(state.metas[i].get(META_VERSION) != version for i in ids):
            self._touch(_doc_ids(state))
            texts = self.store.texts_for(ids)
            flags = flag_chunks(self._screener, raw, [texts.get(i, "") for i in ids])
            updated = [
                {**state.metas[i], **flag_metadata(f, version)}
                for i, f in zip(ids, flags, strict=True)
            ]
            self.store.update_metadata(ids, updated)
            state.metas.update({i: dict(m) for i, m in zip(ids, updated, strict=True)})
            self._dirty = True
        report.flagged += [
            flag_row(state.metas[i], i) for i in ids if state.metas[i].get("untrusted")
        ]

    def _notify(self, progress: SyncProgress) -> None:
        if self.progress is not None:
            self.progress(progress)


def _doc_ids(state: DocState) -> set[str]:
    return {str(m.get("doc_id", "")) for m in state.metas.values()}
