"""Chroma access: client construction, the collection contract, batched writes.

The collection's metadata records which embedding model (and dimension) wrote
its vectors; opening it with another model is refused, because mixing vector
spaces silently ruins retrieval.  A `revision` counter in the same metadata
tells readers (the BM25 index, other API processes) that the content changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import urlparse

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from ingest.types import MetadataValue

T = TypeVar("T")


class EmbeddingMismatchError(RuntimeError):
    """The collection was built with a different embedding model."""


def make_chroma_client(*, chroma_url: str | None, persist_path: str) -> ClientAPI:
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if not chroma_url:
        return chromadb.PersistentClient(path=persist_path, settings=settings)
    parsed = urlparse(chroma_url)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise ValueError(f"TRIAGE_CHROMA_URL must look like http://host:port, got {chroma_url!r}")
    port = parsed.port or (443 if parsed.scheme == "https" else 8000)
    return chromadb.HttpClient(
        host=parsed.hostname, port=port, ssl=parsed.scheme == "https", settings=settings
    )


def batched(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    text: str
    metadata: Mapping[str, Any]


class KnowledgeBaseStore:
    """One Chroma collection holding chunk vectors, texts and metadata."""

    def __init__(
        self, client: ClientAPI, name: str, *, model_name: str, dimension: int | None
    ) -> None:
        self.client = client
        self.name = name
        self.model_name = model_name
        self.dimension = dimension
        self._collection: Collection | None = None

    # -- collection ---------------------------------------------------------------
    @property
    def collection(self) -> Collection:
        if self._collection is None:
            self._collection = self._open()
        return self._collection

    def _open(self) -> Collection:
        metadata: dict[str, MetadataValue] = {"embedding_model": self.model_name, "revision": 0}
        if self.dimension is not None:
            metadata["embedding_dim"] = self.dimension
        collection = self.client.get_or_create_collection(
            self.name,
            metadata=metadata,
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=None,
        )
        stored = collection.metadata or {}
        stored_model = stored.get("embedding_model")
        stored_dim = stored.get("embedding_dim")
        if stored_model is not None and stored_model != self.model_name:
            raise EmbeddingMismatchError(
                f"collection {self.name!r} was built with embedding model {stored_model!r} "
                f"(dimension {stored_dim}), but {self.model_name!r} is configured; "
                "use another --collection or set TRIAGE_EMBEDDING_MODEL to the original model"
            )
        if stored_dim is not None and self.dimension is not None and stored_dim != self.dimension:
            raise EmbeddingMismatchError(
                f"collection {self.name!r} holds {stored_dim}-d vectors but the model gives "
                f"{self.dimension}-d vectors"
            )
        return collection

    def exists(self) -> bool:
        return any(c.name == self.name for c in self.client.list_collections())

    def revision(self) -> int:
        fresh = self.client.get_collection(self.name, embedding_function=None)
        return int((fresh.metadata or {}).get("revision", 0))

    def bump_revision(self) -> int:
        current = self.client.get_collection(self.name, embedding_function=None)
        metadata = dict(current.metadata or {})
        metadata["revision"] = int(metadata.get("revision", 0)) + 1
        if self.dimension is not None:
            metadata["embedding_dim"] = self.dimension
        current.modify(metadata=metadata)
        self._collection = None
        return int(metadata["revision"])

    def identity(self) -> str:
        """The collection's id: a re-created collection of the same name is another one."""
        return str(self.client.get_collection(self.name, embedding_function=None).id)

    def count(self) -> int:
        return int(self.collection.count())

    # -- reads ----------------------------------------------------------------------
    def all_metadata(
        self, where: Mapping[str, Any] | None = None
    ) -> list[tuple[str, Mapping[str, Any]]]:
        out: list[tuple[str, Mapping[str, Any]]] = []
        page = max(self.client.get_max_batch_size(), 1000)
        offset = 0
        while True:
            got = self.collection.get(
                where=dict(where) if where else None,
                include=["metadatas"],
                limit=page,
                offset=offset,
            )
            ids = got["ids"]
            metas = got["metadatas"] or []
            out.extend(zip(ids, metas, strict=True))
            if len(ids) < page:
                return out
            offset += page

    def all_chunks(self) -> list[StoredChunk]:
        out: list[StoredChunk] = []
        page = max(self.client.get_max_batch_size(), 1000)
        offset = 0
        while True:
            got = self.collection.get(include=["documents", "metadatas"], limit=page, offset=offset)
            docs = got["documents"] or []
            metas = got["metadatas"] or []
            for chunk_id, text, meta in zip(got["ids"], docs, metas, strict=True):
                out.append(StoredChunk(chunk_id, text or "", meta or {}))
            if len(got["ids"]) < page:
                return out
            offset += page

    def chunks_for_docs(self, doc_ids: Sequence[str]) -> list[StoredChunk]:
        """Every stored chunk of these documents (the lexical index's delta)."""
        out: list[StoredChunk] = []
        for batch in batched(sorted(doc_ids), 500):
            got = self.collection.get(
                where=cast(Any, {"doc_id": {"$in": list(batch)}}),
                include=["documents", "metadatas"],
            )
            docs = got["documents"] or []
            metas = got["metadatas"] or []
            for chunk_id, text, meta in zip(got["ids"], docs, metas, strict=True):
                out.append(StoredChunk(chunk_id, text or "", meta or {}))
        return out

    def embeddings_for(self, ids: Sequence[str]) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        for batch in batched(list(ids), self.client.get_max_batch_size()):
            got = self.collection.get(ids=list(batch), include=["embeddings"])
            embeddings = got["embeddings"]
            if embeddings is None:
                continue
            for chunk_id, vector in zip(got["ids"], embeddings, strict=True):
                found[chunk_id] = [float(x) for x in vector]
        return found

    def texts_for(self, ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for batch in batched(list(ids), self.client.get_max_batch_size()):
            got = self.collection.get(ids=list(batch), include=["documents"])
            for chunk_id, text in zip(got["ids"], got["documents"] or [], strict=True):
                found[chunk_id] = text or ""
        return found

    def query(
        self, vector: Sequence[float], n: int, where: Mapping[str, Any] | None = None
    ) -> list[tuple[StoredChunk, float]]:
        # No count() first: an empty collection answers with empty lists, and counting
        # 100k rows cost more than the search itself (p50 6 ms, p99 200 ms; bench/scale.py).
        got = self.collection.query(
            query_embeddings=cast(Any, [list(vector)]),
            n_results=n,
            where=dict(where) if where else None,
            include=["documents", "metadatas", "distances"],
        )
        ids = got["ids"][0]
        docs = (got["documents"] or [[]])[0]
        metas = (got["metadatas"] or [[]])[0]
        dists = (got["distances"] or [[]])[0]
        # A chunk deleted by another process can still come back from this process's
        # vector index, with no document and no metadata: a ghost, skipped.
        return [
            (StoredChunk(i, d, m), 1.0 - float(dist))
            for i, d, m, dist in zip(ids, docs, metas, dists, strict=True)
            if d is not None and m is not None
        ]

    def query_ids(self, vector: Sequence[float], n: int) -> list[tuple[str, float]]:
        """Nearest ids and similarities only: fetching metadata and documents cost more than
        the vector search itself (100k chunks, 90 results: 7.0 ms with metadata, 2.2 without)."""
        got = self.collection.query(
            query_embeddings=cast(Any, [list(vector)]), n_results=n, include=["distances"]
        )
        dists = (got["distances"] or [[]])[0]
        return [(i, 1.0 - float(d)) for i, d in zip(got["ids"][0], dists, strict=True)]

    def chunks_by_id(self, ids: Sequence[str]) -> dict[str, StoredChunk]:
        found: dict[str, StoredChunk] = {}
        for batch in batched(list(ids), self.client.get_max_batch_size()):
            got = self.collection.get(ids=list(batch), include=["documents", "metadatas"])
            docs, metas = got["documents"] or [], got["metadatas"] or []
            for chunk_id, text, meta in zip(got["ids"], docs, metas, strict=True):
                if text is not None and meta is not None:
                    found[chunk_id] = StoredChunk(chunk_id, text, meta)
        return found

    # -- writes ---------------------------------------------------------------------
    def upsert(
        self,
        ids: Sequence[str],
        embeddings: Sequence[Sequence[float]],
        documents: Sequence[str],
        metadatas: Sequence[Mapping[str, MetadataValue]],
    ) -> None:
        size = self.client.get_max_batch_size()
        for start in range(0, len(ids), size):
            end = start + size
            self.collection.upsert(
                ids=list(ids[start:end]),
                embeddings=cast(Any, [list(v) for v in embeddings[start:end]]),
                documents=list(documents[start:end]),
                metadatas=[dict(m) for m in metadatas[start:end]],
            )

    def update_metadata(
        self, ids: Sequence[str], metadatas: Sequence[Mapping[str, MetadataValue]]
    ) -> None:
        size = self.client.get_max_batch_size()
        for start in range(0, len(ids), size):
            end = start + size
            self.collection.update(
                ids=list(ids[start:end]), metadatas=[dict(m) for m in metadatas[start:end]]
            )

    def delete(self, ids: Iterable[str]) -> int:
        id_list = list(ids)
        for batch in batched(id_list, self.client.get_max_batch_size()):
            self.collection.delete(ids=list(batch))
        return len(id_list)
