"""The frozen-feature model: sentence embeddings + TF-IDF word/char n-grams, linear SVM.

Embeddings carry meaning, n-grams carry the exact wording (product names, error
codes, typos); on Banking77 the pair beats either alone (bench/classifier.py).
The SVM's margins are turned into probabilities by temperature scaling later.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


class LinearTextModel:
    """Fit on texts, their (unit-length) embeddings and integer targets; score new rows."""

    def __init__(self, *, c: float, embedding_weight: float, seed: int) -> None:
        self.c = c
        self.embedding_weight = embedding_weight
        self.seed = seed
        self._vectorizer: Any = None
        self._svm: Any = None

    def _features(self, texts: list[str], vectors: FloatArray) -> Any:
        import scipy.sparse as sp

        lexical = self._vectorizer.transform(texts)
        dense = sp.csr_matrix(_unit(vectors) * self.embedding_weight)
        return sp.hstack([lexical, dense], format="csr")

    def fit(self, texts: list[str], vectors: FloatArray, targets: np.ndarray[Any, Any]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_union
        from sklearn.svm import LinearSVC

        # min_df=2 on char n-grams drops one-off typos that would only memorise rows.
        min_df = 2 if len(texts) >= 200 else 1
        self._vectorizer = make_union(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(
                analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=min_df
            ),
        )
        self._vectorizer.fit(texts)
        self._svm = LinearSVC(C=self.c, random_state=self.seed)
        self._svm.fit(self._features(texts, vectors), targets)

    @property
    def classes(self) -> np.ndarray[Any, Any]:
        return np.asarray(self._svm.classes_)

    def decision(self, texts: list[str], vectors: FloatArray) -> FloatArray:
        """Margins, one column per class in `classes` order (two-class SVMs give one column)."""
        scores = np.asarray(self._svm.decision_function(self._features(texts, vectors)))
        if scores.ndim == 1:
            scores = np.stack([-scores, scores], axis=1)
        return scores.astype(np.float64)


def _unit(vectors: FloatArray) -> FloatArray:
    # OpenAI and MiniLM vectors are unit length already; others may not be.
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    out: FloatArray = vectors / np.clip(norms, 1e-12, None)
    return out
