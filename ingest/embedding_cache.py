"""Document vectors looked up by text before they are embedded (opt-in).

Ingest embeds every new or changed chunk, and the local model's ~20 chunks/s on two
cores is most of a sync's time.  The same chunk texts come back more often than their
documents change: a new collection or data dir of the same docs, a chunker upgrade that
re-cuts every page into mostly the same chunks, a staging copy beside production.  With
`TRIAGE_EMBEDDING_CACHE_DIR` set, each document text's vector is kept in one SQLite file
per embedding model in that folder (`ingest/vector_disk.py`, shared by the host's
processes) and looked up before the model is asked; queries are never cached here.

Off by default: a sync's throughput then measures the model, as `bench/` reports it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.vector_disk import DiskVectors


class CachedEmbeddings(Embeddings):
    def __init__(self, inner: Embeddings, disk: DiskVectors) -> None:
        self.inner = inner
        self._disk = disk

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        unique = list(dict.fromkeys(texts))
        vectors: dict[str, Any] = dict(self._disk.get(unique))
        missing = [t for t in unique if t not in vectors]
        if missing:
            fresh = {
                t: np.asarray(v, dtype=np.float32)
                for t, v in zip(missing, self.inner.embed_documents(missing), strict=True)
            }
            self._disk.put(fresh)
            vectors.update(fresh)
        return [[float(x) for x in vectors[t]] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    def __getattr__(self, name: str) -> Any:
        # The wrapped model's own attributes (its backend, its token counter) stay reachable.
        if name == "inner":  # not yet set (a copy being built): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)
