"""Writing parsed documents' chunks into the collection, crash-safely.

Per document, new chunks are upserted before its stale ones are deleted, so a `kill -9`
at any point leaves either the old or the new version searchable and never a hole.
Embeddings are reused by content hash from any chunk already in the collection, so
renames and small edits re-embed only what really changed.  Chunk ids and metadata are
the index's only state (ingest/index_state.py reads them back): their shape must not
change, or existing knowledge bases would be re-embedded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from langchain_core.embeddings import Embeddings

from ingest.doc_writes import DocWrite, gather_vectors, store_doc
from ingest.index_state import DocState
from ingest.screening import META_KEYS, ChunkFlag, flag_metadata, flag_row
from ingest.sync_report import SyncProgress, SyncReport
from ingest.types import Chunk, MetadataValue, SourceDocument, sha256_hex
from ingest.vectorstore import KnowledgeBaseStore


@dataclass
class PendingDoc:
    """A parsed, chunked and screened document waiting to be embedded and written."""

    doc: SourceDocument
    doc_hash: str
    file_hash: str
    file_docs: int
    chunks: list[Chunk]
    is_new: bool
    flags: list[ChunkFlag | None]


class WriteQueue(Protocol):
    """Where documents go when the sync only plans (`triage ingest --enqueue`)."""

    def add(self, writes: list[DocWrite], reuse: Mapping[str, str]) -> None:
        """Record the writes; `reuse` maps text hashes to stored chunks holding their vector."""


def chunk_id(doc_id: str, index: int, text_hash: str) -> str:
    return f"{doc_id}#{index}-{text_hash[:12]}"


class ChunkWriter:
    """Writes documents of one ingested root, keeping `state` and the reuse index current."""

    def __init__(
        self,
        store: KnowledgeBaseStore,
        embeddings: Embeddings,
        *,
        root_key: str,
        state: dict[str, DocState],
        text_hash_ids: dict[str, str],
        screen_version: str,
        chunking: str = "",
        queue: WriteQueue | None = None,
    ) -> None:
        self.store = store
        self.embeddings = embeddings
        self.root_key = root_key
        self.state = state
        self.text_hash_ids = text_hash_ids
        self.chunking = chunking
        self.screen_version = screen_version
        self.queue = queue

    def write(self, pending: list[PendingDoc], report: SyncReport, progress: SyncProgress) -> None:
        writes = [self._plan(item, report) for item in pending]
        if self.queue is not None:
            # Embedding and writing happen in whichever worker claims the job; chunks
            # are counted as written there.
            known = self.text_hash_ids
            self.queue.add(
                writes, {h: known[h] for w in writes for h in w.text_hashes if h in known}
            )
            return
        hashes = [h for w in writes for h in w.text_hashes]
        texts = [t for w in writes for t in w.embed_texts]
        vectors, computed = gather_vectors(
            self.store, self.embeddings, hashes, texts, self.text_hash_ids
        )
        report.embeddings_computed += computed
        progress.embeddings_computed += computed
        for w in writes:
            report.chunks_deleted += store_doc(self.store, w, vectors)
            report.chunks_written += len(w.ids)
            progress.chunks_written += len(w.ids)
            for chunk_id_, h in zip(w.ids, w.text_hashes, strict=True):
                self.text_hash_ids.setdefault(h, chunk_id_)

    def _plan(self, item: PendingDoc, report: SyncReport) -> DocWrite:
        """The document's chunk ids, texts and metadata, and which stored chunks it replaces;
        the in-memory state records it as written (the sync reads it for later files)."""
        texts = [c.embed_text(item.doc.title) for c in item.chunks]
        text_hashes = [sha256_hex(t) for t in texts]
        ids = [
            chunk_id(item.doc.doc_id, c.index, h)
            for c, h in zip(item.chunks, text_hashes, strict=True)
        ]
        metadatas = [
            self._metadata(item, c, h) | flag_metadata(f, self.screen_version)
            for c, h, f in zip(item.chunks, text_hashes, item.flags, strict=True)
        ]
        report.flagged += [
            flag_row(m, i)
            for i, m, f in zip(ids, metadatas, item.flags, strict=True)
            if f is not None
        ]
        old = self.state.get(item.doc.doc_id)
        stale = sorted((old.ids - set(ids)) if old else set())
        if item.is_new:
            report.docs_added += 1
        else:
            report.docs_updated += 1
        self.state[item.doc.doc_id] = DocState(
            metas={i: dict(m) for i, m in zip(ids, metadatas, strict=True)},
            doc_hashes={item.doc_hash},
            n_chunks=len(ids),
            file_hash=item.file_hash,
            file_docs=item.file_docs,
            source=item.doc.source,
        )
        return DocWrite(
            doc_id=item.doc.doc_id,
            ids=ids,
            texts=[c.text for c in item.chunks],
            embed_texts=texts,
            text_hashes=text_hashes,
            metadatas=metadatas,
            stale=stale,
        )

    def _metadata(self, item: PendingDoc, chunk: Chunk, text_hash: str) -> dict[str, MetadataValue]:
        doc = item.doc
        meta: dict[str, MetadataValue] = {
            k: v for k, v in doc.metadata.items() if k not in _RESERVED and v is not None
        }
        meta.update(
            doc_id=doc.doc_id,
            source=doc.source,
            title=doc.title,
            kind=doc.kind,
            heading=chunk.heading,
            chunk_index=chunk.index,
            n_chunks=len(item.chunks),
            tokens=chunk.tokens,
            doc_hash=item.doc_hash,
            file_hash=item.file_hash,
            file_docs=item.file_docs,
            text_hash=text_hash,
            root=self.root_key,
            chunking=self.chunking,
        )
        url = _chunk_url(doc.url, chunk.anchor)
        if url:
            meta["url"] = url
        if doc.url:
            meta["doc_url"] = doc.url
        if chunk.anchor:
            meta["anchor"] = chunk.anchor
        return meta


def _chunk_url(doc_url: str | None, anchor: str | None) -> str | None:
    if not doc_url:
        return None
    return f"{doc_url}#{anchor}" if anchor else doc_url


# Keys the writer sets itself: a document's own metadata never overrides them.
_RESERVED = frozenset(
    {
        "doc_id",
        "source",
        "title",
        "kind",
        "heading",
        "chunk_index",
        "n_chunks",
        "tokens",
        "doc_hash",
        "file_hash",
        "file_docs",
        "text_hash",
        "root",
        "chunking",
        "url",
        "doc_url",
        "anchor",
        *META_KEYS,
    }
)
