"""Unit vectors of texts, embedded once and kept while they are used.

The drafter compares the question with the same doc blocks question after question, and
the knowledge-gap report embeds the same stored questions report after report: both ask
this cache, which embeds only the texts it has not seen and forgets the least recently
used beyond its size.  Embedding happens under the lock: two callers at once would only
share the CPU and compute the same vectors twice.  With a `DiskVectors` behind it, texts
it has not seen are looked up on disk before they are embedded, and what it embeds is
written there for the next process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ingest.vector_disk import DiskVectors

EmbedTexts = Callable[[list[str]], Sequence[Sequence[float]]]


class VectorCache:
    def __init__(
        self, embed: EmbedTexts, *, max_size: int, disk: DiskVectors | None = None
    ) -> None:
        self._embed = embed
        self._max_size = max_size
        self._disk = disk
        self._vectors: OrderedDict[str, np.ndarray[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def unit_vectors(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        """One unit-length row per text, in order."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
            if missing and self._disk is not None:
                stored = self._disk.get(missing)
                self._vectors.update(stored)
                missing = [t for t in missing if t not in stored]
            if missing:
                fresh = np.asarray(self._embed(missing), dtype=float)
                fresh /= np.clip(np.linalg.norm(fresh, axis=1, keepdims=True), 1e-12, None)
                self._vectors.update(zip(missing, fresh, strict=True))
                if self._disk is not None:
                    self._disk.put(dict(zip(missing, fresh, strict=True)))
            for text in texts:
                self._vectors.move_to_end(text)
            rows = np.vstack([self._vectors[text] for text in texts])
            while len(self._vectors) > self._max_size:
                self._vectors.popitem(last=False)
        return rows
