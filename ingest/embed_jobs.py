"""What an embedding job does to Chroma (the database side is app/store/embed_jobs.py).

An ``embed`` job carries whole documents' chunks (ingest/doc_writes.py): its worker
gathers vectors (reused from stored chunks with the same text where it can, embedded
otherwise), checks that it still holds the job, then writes each document new chunks
first, stale ones after.  Every step is idempotent, so a job redone after its worker died
(or redone twice) leaves the collection as one run would: no duplicates, no holes.

The ``finish`` job closes a run once every embed job is done: it deletes the chunks of
documents whose files vanished, brings this host's lexical index up to date with the
touched documents (only when it was current before the run; otherwise every reader
rebuilds it from Chroma as usual), and bumps the collection revision so readers notice.
Redone after a crash, it deletes nothing new, re-applies the same documents and bumps the
revision once more, which costs readers one extra refresh.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.embeddings import Embeddings

from ingest.doc_writes import DocWrite, gather_vectors, store_doc
from ingest.lexical_store import LexicalStore
from ingest.vectorstore import KnowledgeBaseStore


@dataclass(frozen=True)
class JobResult:
    chunks_written: int = 0
    chunks_deleted: int = 0
    embedded: int = 0
    lost: bool = False  # the lease was taken over before writing: nothing written


def embed_payload(writes: list[DocWrite], reuse: Mapping[str, str]) -> dict[str, Any]:
    hashes = {h for w in writes for h in w.text_hashes}
    return {
        "writes": [w.as_json() for w in writes],
        "reuse": {h: cid for h, cid in reuse.items() if h in hashes},
    }


def finish_payload(touched: set[str], delete: list[str]) -> dict[str, Any]:
    return {"touched": sorted(touched), "delete": list(delete)}


def run_embed_job(
    store: KnowledgeBaseStore,
    embeddings: Embeddings,
    payload: Mapping[str, Any],
    *,
    retry: bool,
    still_held: Callable[[], bool],
) -> JobResult:
    writes = [DocWrite.from_json(w) for w in payload["writes"]]
    known = dict(payload.get("reuse", {}))
    if retry:
        # A dead worker may have written some of these documents already: read their
        # vectors back instead of embedding them again.
        known.update({h: i for w in writes for i, h in zip(w.ids, w.text_hashes, strict=True)})
    hashes = [h for w in writes for h in w.text_hashes]
    texts = [t for w in writes for t in w.embed_texts]
    vectors, embedded = gather_vectors(store, embeddings, hashes, texts, known)
    if not still_held():
        return JobResult(embedded=embedded, lost=True)
    written = deleted = 0
    for write in writes:
        deleted += store_doc(store, write, vectors)
        written += len(write.ids)
    return JobResult(written, deleted, embedded)


def run_finish_job(
    store: KnowledgeBaseStore, lexical: LexicalStore | None, payload: Mapping[str, Any]
) -> JobResult:
    touched = set(payload["touched"])
    if not touched and not payload["delete"]:
        return JobResult()  # nothing changed: readers keep their index (no revision bump)
    revision, identity = store.revision(), store.identity()
    manifest = lexical.manifest() if lexical is not None else None
    current = (
        manifest is not None
        and manifest["collection"] == identity
        and int(manifest["revision"]) == revision
    )
    deleted = store.delete(payload["delete"])
    if lexical is not None and current and touched:
        lexical.apply(
            touched,
            store.chunks_for_docs(sorted(touched)),
            revision + 1,
            identity,
            store.all_chunks,
        )
    store.bump_revision()
    return JobResult(chunks_deleted=deleted)
