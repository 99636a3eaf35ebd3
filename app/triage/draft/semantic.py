"""How close in meaning each candidate block is to the question.

Word overlap picks the block that repeats the question's words, which is often a
neighbour of the answer ("Email OTP" text for a question about the sandbox's OTP code).
A sentence embedding of the question against each block, under its title and heading,
tells the passage that is about the question from one that shares its words.  The
embedding function is passed in (the knowledge base's own local model), so this module
loads nothing itself.  Vectors are cached by text: the same doc blocks come back for
question after question.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

EmbedTexts = Callable[[list[str]], Sequence[Sequence[float]]]

_CACHE_SIZE = 50_000
_BLOCK_CHARS = 1_500  # the model reads 256 tokens at most; longer text is cut anyway


class BlockSimilarity:
    """Cosine similarity of a question to blocks of documentation text."""

    def __init__(self, embed: EmbedTexts, *, cache_size: int = _CACHE_SIZE) -> None:
        self._embed = embed
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()  # the drafting worker and API requests share it

    def scores(self, question: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        keys = [t[:_BLOCK_CHARS] for t in texts]
        wanted = list(dict.fromkeys([question, *keys]))
        with self._lock:
            known = {k: self._cache[k] for k in wanted if k in self._cache}
        missing = [k for k in wanted if k not in known]
        if missing:
            fresh = [np.asarray(v, dtype=np.float32) for v in self._embed(missing)]
            known.update(zip(missing, fresh, strict=True))
            with self._lock:
                for key, vector in zip(missing, fresh, strict=True):
                    self._remember(key, vector)
        q = self._unit(known[question])
        return [float(q @ self._unit(known[k])) for k in keys]

    def _remember(self, key: str, vector: np.ndarray) -> None:
        self._cache[key] = vector
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    @staticmethod
    def _unit(vector: np.ndarray) -> np.ndarray:
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector
