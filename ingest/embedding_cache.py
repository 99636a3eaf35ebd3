"""Document vectors looked up by text before they are embedded (opt-in).

Ingest embeds every new or changed chunk, and the local model's ~20 chunks/s on two
cores is most of a sync's time.  The same chunk texts come back more often than their
documents change: a new collection or data dir of the same docs, a chunker upgrade that
re-cuts every page into mostly the same chunks, a staging copy beside production.  With
`TRIAGE_EMBEDDING_CACHE_DIR` set, each document text's vector is kept in one SQLite file
per embedding model in that folder (`ingest/vector_disk.py`, shared by the host's
processes) and looked up before the model is asked (`ingest/vector_cache.py`, as the
drafter's block vectors are).  Only a sync's embeddings go through it (`app/knowledge.py`,
one worker or a pool): questions, messages and doc blocks are embedded as before.  Vectors
are stored at unit length, as the local model and OpenAI's embedding models return them.

Off by default: a sync's throughput then measures the model, as `bench/` reports it.
"""

from __future__ import annotations

from langchain_core.embeddings import Embeddings

from ingest.vector_cache import VectorCache
from ingest.vector_disk import DiskVectors

# Vectors also kept in memory, most recent first: a sync's batch at a time, not the corpus.
_IN_MEMORY = 2048


class CachedEmbeddings(Embeddings):
    def __init__(self, inner: Embeddings, disk: DiskVectors) -> None:
        self.inner = inner
        self._vectors = VectorCache(inner.embed_documents, max_size=_IN_MEMORY, disk=disk)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return [[float(x) for x in row] for row in self._vectors.unit_vectors(texts)]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)
