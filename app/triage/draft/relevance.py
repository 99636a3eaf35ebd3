"""How much of a question a piece of documentation covers.

Terms are stemmed content words (identifiers split into their words as well), weighted
by how rare they are among the candidate passages, so "webhook" in a webhook question
counts less than "signature".  Identifiers the developer pasted (an error code, a field,
an endpoint path) count on their own: a passage that names them is about them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import cache, lru_cache

from ingest.retrieval import expand_identifiers

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_'-]*")


@cache
def _stop_words() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    # Words of greeting and of the product's own name say nothing about the topic.
    return frozenset(STOPWORDS_EN) | {
        "grid",
        "api",
        "hi",
        "hello",
        "hey",
        "thanks",
        "please",
        "get",
        "team",
        "guys",
        "lol",
        "anyone",
        "know",
        "need",
        "want",
        "trying",
        "help",
    }


@cache
def _stemmer() -> object:
    import Stemmer

    return Stemmer.Stemmer("english")


@cache
def _stem(word: str) -> str:
    return str(_stemmer().stemWord(word))  # type: ignore[attr-defined]


@lru_cache(maxsize=65_536)
def terms(text: str) -> frozenset[str]:
    """Stemmed content words; cached, since the same doc blocks come back query after query."""
    words = (w.lower().strip("'-") for w in _WORD.findall(expand_identifiers(text)))
    stop = _stop_words()
    return frozenset(_stem(w) for w in words if len(w) > 1 and w not in stop)


class Weights:
    """Inverse document frequency of the question's terms over the candidate blocks."""

    def __init__(self, question_terms: frozenset[str], candidates: Iterable[frozenset[str]]):
        documents = list(candidates)
        df = {t: sum(1 for d in documents if t in d) for t in question_terms}
        n = max(len(documents), 1)
        # Terms no candidate uses cannot be covered by any answer; leaving them out keeps
        # chatty words ("prod is on fire") from making a well-supported answer look thin.
        self.idf = {t: math.log(1 + n / df[t]) for t in question_terms if df[t]}
        self.total = sum(self.idf.values())
        # What the question names that no retrieved passage mentions at all ("SSO", "SFTP"):
        # asked whether a feature exists, the docs' silence is the answer a person gives.
        self.unmatched = frozenset(t for t in question_terms if not df[t])

    def coverage(self, block_terms: frozenset[str]) -> float:
        if not self.total:
            return 0.0
        return sum(w for t, w in self.idf.items() if t in block_terms) / self.total

    def covered(self, block_terms: frozenset[str]) -> frozenset[str]:
        return frozenset(t for t in self.idf if t in block_terms)


def identifier_hits(identifiers: Iterable[str], text: str) -> int:
    """How many of the pasted identifiers the text names exactly (case-sensitive).  A plain
    lower-case word (`limit`, `type`) counts only as a name in backticks: "rate limits" or
    "content type" in prose names no parameter."""
    return sum(1 for ident in identifiers if _names(ident, text))


def _names(ident: str, text: str) -> bool:
    if _PLAIN_WORD.fullmatch(ident):
        return f"`{ident}`" in text
    return ident in text


_PLAIN_WORD = re.compile(r"[a-z]+")
