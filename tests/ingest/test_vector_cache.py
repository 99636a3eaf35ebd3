"""The shared text → unit-vector cache: each text embedded once, least recent forgotten."""

from __future__ import annotations

import numpy as np

from ingest.vector_cache import VectorCache


def test_rows_are_unit_vectors_in_order_and_each_text_is_embedded_once() -> None:
    seen: list[str] = []

    def embed(texts: list[str]) -> list[list[float]]:
        seen.extend(texts)
        return [[float(len(t)), 1.0] for t in texts]

    cache = VectorCache(embed, max_size=10)
    rows = cache.unit_vectors(["ab", "abcd", "ab"])
    assert rows.shape == (3, 2)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0)
    assert np.allclose(rows[0], rows[2])
    cache.unit_vectors(["abcd"])
    assert seen == ["ab", "abcd"]


def test_beyond_its_size_the_least_recently_used_is_embedded_again() -> None:
    seen: list[str] = []

    def embed(texts: list[str]) -> list[list[float]]:
        seen.extend(texts)
        return [[1.0, float(len(t))] for t in texts]

    cache = VectorCache(embed, max_size=1)
    cache.unit_vectors(["a"])
    cache.unit_vectors(["bb"])
    cache.unit_vectors(["a"])
    assert seen == ["a", "bb", "a"]
