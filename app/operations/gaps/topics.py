"""Questions grouped into topics, and each topic named by its distinctive words.

Grouping: agglomerative clustering of the questions' sentence embeddings (cosine
distance, average linkage) cut at a distance, so the number of topics follows the data.
Naming: class-based TF-IDF (c-TF-IDF, as BERTopic names its topics): all questions of a
topic are one document, and a term weighs by its frequency in the topic times
log(1 + average topic size in words / the term's frequency over all topics), so words
every topic uses (the product's name, "API") sink and the topic's own words rise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from app.triage.screen.id_shapes import UUID

# Text that names no topic: redaction placeholders, ids, URLs, numbers with units.
_NOISE = re.compile(
    r"\[[A-Z][A-Z0-9_]*\]"  # [REDACTED_API_KEY_1]
    r"|https?://\S+"
    r"|\b[A-Za-z]+:[0-9a-f]{6,}[-0-9a-f]*"  # Transaction:019a7c21-…
    rf"|\b{UUID}\b"
    r"|\b\w*\d\w*\b"  # numbers, amounts, codes with digits
)
# Words of two letters or more, identifiers kept whole (QUOTE_EXPIRED, kycStatus).
_TOKEN = r"(?u)\b[A-Za-z][A-Za-z_]+\b"


def clean(text: str) -> str:
    """The words of a question that could name its topic."""
    return " ".join(_NOISE.sub(" ", text).split())


def cluster(vectors: np.ndarray[Any, Any], max_distance: float) -> list[int]:
    """A topic number per row of unit ``vectors`` (topics numbered from 0, any order)."""
    n = len(vectors)
    if n == 0:
        return []
    if n == 1:
        return [0]
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=max_distance
    )
    return [int(label) for label in model.fit_predict(vectors)]


def medoid(vectors: np.ndarray[Any, Any]) -> int:
    """The row closest to all the others (the most typical question of a topic)."""
    centre = vectors.mean(axis=0)
    return int(np.argmax(vectors @ centre))


def keywords(
    topics: Sequence[Sequence[str]], stop_words: Iterable[str], top: int = 3
) -> list[list[str]]:
    """The ``top`` most distinctive terms of each topic (c-TF-IDF over unigrams and
    bigrams); a term already inside a chosen bigram is not repeated."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    documents = [" ".join(clean(t) for t in texts) for texts in topics]
    if not any(documents):
        return [[] for _ in topics]
    vectorizer = CountVectorizer(
        lowercase=True,
        token_pattern=_TOKEN,
        ngram_range=(1, 2),
        stop_words=sorted(ENGLISH_STOP_WORDS | {w.lower() for w in stop_words}),
    )
    try:
        counts = vectorizer.fit_transform(documents).toarray().astype(float)
    except ValueError:  # nothing left once stop words are gone
        return [[] for _ in topics]
    terms = vectorizer.get_feature_names_out()
    words_per_topic = counts.sum(axis=1, keepdims=True)
    tf = counts / np.clip(words_per_topic, 1.0, None)
    average_words = float(words_per_topic.mean())
    idf = np.log(1.0 + average_words / np.clip(counts.sum(axis=0), 1.0, None))
    weights = tf * idf
    named: list[list[str]] = []
    for row in weights:
        chosen: list[str] = []
        for index in np.argsort(-row, kind="stable"):
            if row[index] <= 0 or len(chosen) >= top:
                break
            term = str(terms[index])
            if any(term in c.split() or c in term.split() for c in chosen):
                continue
            chosen.append(term)
        named.append(chosen)
    return named
