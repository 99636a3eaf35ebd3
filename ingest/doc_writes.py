"""One document's new chunks as a unit of work, and writing it crash-safely.

The in-process sync (ingest/chunk_writer.py) and the embedding jobs claimed from the
database (ingest/embed_jobs.py) write documents the same way: the new chunks are upserted
before the stale ones are deleted, so a `kill -9` at any point leaves either the old or
the new version searchable and never a hole.  Chunk ids are derived from the document id,
the chunk's position and its text's hash, so writing the same unit twice (a job retried
after its worker died) upserts the same rows again: nothing is duplicated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from langchain_core.embeddings import Embeddings

from ingest.types import MetadataValue
from ingest.vectorstore import KnowledgeBaseStore


@dataclass
class DocWrite:
    """One document's chunks to upsert, and its previously stored chunks to delete after."""

    doc_id: str
    ids: list[str]
    texts: list[str]
    embed_texts: list[str]  # what the model embeds (title and heading prefixed)
    text_hashes: list[str]  # sha256 of embed_texts: the embedding-reuse key
    metadatas: list[dict[str, MetadataValue]]
    stale: list[str]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DocWrite:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


def gather_vectors(
    store: KnowledgeBaseStore,
    embeddings: Embeddings,
    text_hashes: list[str],
    texts: list[str],
    known: Mapping[str, str],
) -> tuple[dict[str, list[float]], int]:
    """Vectors by text hash: read from the chunks `known` names (text hash -> chunk id)
    when they are still stored, embedded otherwise.  Returns them and how many were
    embedded."""
    vectors: dict[str, list[float]] = {}
    reusable = {h: known[h] for h in text_hashes if h in known}
    if reusable:
        stored = store.embeddings_for(sorted(set(reusable.values())))
        for h, cid in reusable.items():
            if cid in stored:
                vectors[h] = stored[cid]
    missing: dict[str, str] = {}
    for h, text in zip(text_hashes, texts, strict=True):
        if h not in vectors:
            missing.setdefault(h, text)
    if missing:
        computed = embeddings.embed_documents(list(missing.values()))
        for h, vec in zip(missing, computed, strict=True):
            vectors[h] = vec
    return vectors, len(missing)


def store_doc(
    store: KnowledgeBaseStore, write: DocWrite, vectors: Mapping[str, list[float]]
) -> int:
    """Upsert the document's chunks, then delete its stale ones; returns how many were
    deleted."""
    store.upsert(write.ids, [vectors[h] for h in write.text_hashes], write.texts, write.metadatas)
    return store.delete(write.stale)
