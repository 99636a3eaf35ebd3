"""How close in meaning each candidate block is to the question.

Word overlap picks the block that repeats the question's words, which is often a
neighbour of the answer ("Email OTP" text for a question about the sandbox's OTP code).
A sentence embedding of the question against each block, under its title and heading,
tells the passage that is about the question from one that shares its words.  The
embedding function is passed in (the knowledge base's own local model), so this module
loads nothing itself; vectors are cached by text (ingest/vector_cache.py), since the same
doc blocks come back for question after question, and kept on disk (ingest/vector_disk.py)
for the next process.
"""

from __future__ import annotations

from collections.abc import Sequence

from ingest.vector_cache import EmbedTexts, VectorCache
from ingest.vector_disk import DiskVectors

_CACHE_SIZE = 50_000
_BLOCK_CHARS = 1_500  # the model reads 256 tokens at most; longer text is cut anyway


class BlockSimilarity:
    """Cosine similarity of a question to blocks of documentation text."""

    def __init__(
        self, embed: EmbedTexts, *, cache_size: int = _CACHE_SIZE, disk: DiskVectors | None = None
    ) -> None:
        self._cache = VectorCache(embed, max_size=cache_size, disk=disk)

    def scores(self, question: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        rows = self._cache.unit_vectors([question, *(t[:_BLOCK_CHARS] for t in texts)])
        return [float(score) for score in rows[1:] @ rows[0]]
