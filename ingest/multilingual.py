"""Spanish and Portuguese questions glossed into English retrieval queries.

The embedding model and the BM25 stemmer are English-only and so are the docs:
"¿cómo verifico la firma de los webhooks?" embeds nowhere near the page on
webhook signatures.  A glossary of support vocabulary (query_glossary.yaml)
turns such a message into English query terms word by word; error codes, paths,
JSON and English loanwords pass through unchanged, which is where most of the
signal of a developer's message is anyway.  Measured against a multilingual
embedding model in bench/retrieval.py (see the README's retrieval figures).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from typing import Any

import yaml

_TOKEN = re.compile(r"\S+")
_EDGE = re.compile(r"^([¿¡\"'(\[{<*`]*)(.*?)([\"')\]}>.,;:!?*`]*)$", re.DOTALL)
_WORD = re.compile(r"^[a-z]+(?:-[a-z]+)*$")
_MIN_VOTES = 2
_STEM = 5


def _shared_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def fold(text: str) -> str:
    """Lowercase without accents, so 'Cotización' and 'cotizacion' are one key."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Glossary:
    terms: dict[tuple[str, ...], str]
    function_words: dict[str, frozenset[str]]
    longest: int

    @classmethod
    def from_mapping(cls, data: Any) -> Glossary:
        terms = {tuple(fold(str(k)).split()): str(v) for k, v in data["terms"].items()}
        words = {
            str(lang): frozenset(fold(str(w)) for w in listed)
            for lang, listed in data["function_words"].items()
        }
        return cls(terms, words, max(len(k) for k in terms))

    def language(self, words: list[str]) -> str:
        """'es', 'pt' or 'en' by function-word votes; English unless clearly outvoted."""
        words = [fold(w) for w in words]
        vocabularies = self.function_words.items()
        votes = {lang: sum(w in vocab for w in words) for lang, vocab in vocabularies}
        best = max(("es", "pt"), key=lambda lang: votes.get(lang, 0))
        if votes.get(best, 0) >= _MIN_VOTES and votes[best] > votes.get("en", 0):
            return best
        return "en"

    def _lookup(self, key: tuple[str, ...]) -> str | None:
        found = self.terms.get(key)
        if found is None and len(key) == 1:
            word = key[0]
            for suffix in ("es", "s"):  # plurals of a listed singular
                if word.endswith(suffix) and (word[: -len(suffix)],) in self.terms:
                    return self.terms[(word[: -len(suffix)],)]
            return self._inflection_of(word)
        return found

    def _inflection_of(self, word: str) -> str | None:
        """A listed word differing only in its ending ('reintentan' -> 'reintentar').

        Verbs and adjectives inflect at the end; a listed key sharing all but its last two
        letters (and at least its first _STEM letters) is taken as the same word.
        """
        if len(word) < _STEM:
            return None
        best: tuple[int, str] | None = None
        for key in self._by_stem.get(word[:_STEM], ()):
            shared = _shared_prefix(key, word)
            close = shared >= len(key) - 2 and len(word) - shared <= 4
            if close and (best is None or shared > best[0]):
                best = (shared, self.terms[(key,)])
        return best[1] if best else None

    @cached_property
    def _by_stem(self) -> dict[str, list[str]]:
        stems: dict[str, list[str]] = {}
        for key in self.terms:
            if len(key) == 1 and len(key[0]) >= _STEM:
                stems.setdefault(key[0][:_STEM], []).append(key[0])
        return stems

    def gloss(self, text: str) -> str | None:
        """The English rendering of a Spanish/Portuguese message, or None for English."""
        # (token as written, its word without punctuation, folded word or None if no word)
        pieces: list[tuple[str, str, str | None]] = []
        for raw in _TOKEN.findall(text):
            match = _EDGE.match(raw)
            core = match.group(2) if match else raw
            word = fold(core)
            pieces.append((raw, core, word if _WORD.match(word) else None))
        words = [w for _, _, w in pieces if w]
        language = self.language(words)
        if language == "en":
            return None
        drop = self.function_words.get(language, frozenset())
        out: list[str] = []
        i = 0
        while i < len(pieces):
            raw, core, folded = pieces[i]
            if folded is None:
                out.append(raw)
                i += 1
                continue
            word = folded
            for size in range(min(self.longest, len(pieces) - i), 0, -1):
                span = [w for _, _, w in pieces[i : i + size]]
                if any(w is None for w in span):
                    continue
                english = self._lookup(tuple(w for w in span if w))
                if english is not None:
                    out.append(english)
                    i += size
                    break
            else:
                if word not in drop:
                    out.append(core)
                i += 1
        return " ".join(out)


@cache
def default_glossary() -> Glossary:
    text = resources.files("ingest").joinpath("query_glossary.yaml").read_text("utf-8")
    return Glossary.from_mapping(yaml.safe_load(text))


def english_query(text: str) -> str | None:
    """The glossed query for a Spanish/Portuguese message; None when it reads as English."""
    return default_glossary().gloss(text)
