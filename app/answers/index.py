"""The vector side of reusable answers: questions embedded beside the docs.

Each answer's question lives in its own Chroma collection (``<docs collection>__answers``)
embedded by the same model as the docs, so the collection contract (one model per
collection) holds for it too.  The answer text and its citations ride along in the
metadata: matching needs Chroma and the embeddings only, never the database, so the
triage pipeline (``triage ask``, evals) can call it as it calls the retriever.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from chromadb.api import ClientAPI
from langchain_core.embeddings import Embeddings

from app.triage.results import Citation
from ingest.types import MetadataValue
from ingest.vectorstore import KnowledgeBaseStore

ANSWERS_SUFFIX = "__answers"
# Several neighbours are read so that a language filter or a retired leftover does not
# hide the best live match.
_NEIGHBOURS = 5


def answers_collection_name(docs_collection: str) -> str:
    return f"{docs_collection}{ANSWERS_SUFFIX}"


@dataclass(frozen=True)
class MatchedAnswer:
    """A stored answer whose question the new one paraphrases (cosine ≥ the threshold)."""

    id: str
    question: str
    text: str
    citations: list[Citation]
    similarity: float
    language: str
    category: str | None = None


@dataclass(frozen=True)
class IndexEntry:
    id: str
    question: str
    answer: str
    citations: list[Mapping[str, Any]]
    language: str
    category: str | None = None


def _citation(raw: Mapping[str, Any]) -> Citation:
    return Citation(
        chunk_id=str(raw.get("chunk_id", "")),
        doc_id=str(raw.get("doc_id", "")),
        source=str(raw.get("source", "")),
        url=raw.get("url") or None,
        quote=str(raw.get("quote", "")),
        marker=raw.get("marker") if isinstance(raw.get("marker"), int) else None,
    )


class AnswerIndex:
    """Questions of active reusable answers, nearest-neighbour searchable by cosine."""

    def __init__(
        self,
        client: ClientAPI,
        docs_collection: str,
        embeddings: Embeddings,
        *,
        model_name: str,
        dimension: int | None,
        min_similarity: float,
    ) -> None:
        self.docs_collection = docs_collection
        self.embeddings = embeddings
        self.min_similarity = min_similarity
        self.store = KnowledgeBaseStore(
            client,
            answers_collection_name(docs_collection),
            model_name=model_name,
            dimension=dimension,
        )
        self._exists = False

    def exists(self) -> bool:
        # Once created the collection stays: remembering that spares match() a listing
        # of every collection on each call.
        if not self._exists:
            self._exists = self.store.exists()
        return self._exists

    def ids(self) -> set[str]:
        if not self.exists():
            return set()
        return {answer_id for answer_id, _ in self.store.all_metadata()}

    def add(self, entries: Sequence[IndexEntry]) -> None:
        if not entries:
            return
        vectors = self.embeddings.embed_documents([e.question for e in entries])
        metadatas: list[dict[str, MetadataValue]] = []
        for e in entries:
            meta: dict[str, MetadataValue] = {
                "answer": e.answer,
                "citations": json.dumps(list(map(dict, e.citations)), ensure_ascii=False),
                "language": e.language,
            }
            if e.category:
                meta["category"] = e.category
            metadatas.append(meta)
        self.store.upsert(
            [e.id for e in entries], vectors, [e.question for e in entries], metadatas
        )

    def remove(self, ids: Sequence[str]) -> None:
        if ids and self.exists():
            self.store.delete(ids)

    def match(
        self,
        question: str,
        *,
        language: str | None = None,
        vector: Sequence[float] | None = None,
    ) -> MatchedAnswer | None:
        """The closest stored answer at or above ``min_similarity``, or None.

        ``language`` keeps an English answer from being served to a Spanish question;
        ``vector`` lets a caller that already embedded the question skip a second pass.
        """
        if not question.strip() or not self.exists():
            return None
        stored = self.store.count()
        if stored == 0:
            return None
        query = list(vector) if vector is not None else self.embeddings.embed_query(question)
        got = self.store.collection.query(
            query_embeddings=cast(Any, [query]),
            n_results=min(_NEIGHBOURS, stored),
            where=cast(Any, {"language": language} if language else None),
            include=["documents", "metadatas", "distances"],
        )
        documents = (got["documents"] or [[]])[0]
        metadatas = (got["metadatas"] or [[]])[0]
        distances = (got["distances"] or [[]])[0]
        for answer_id, question_text, meta, distance in zip(
            got["ids"][0], documents, metadatas, distances, strict=True
        ):
            similarity = 1.0 - float(distance)
            if similarity < self.min_similarity or meta is None:
                break
            return MatchedAnswer(
                id=answer_id,
                question=question_text or "",
                text=str(meta.get("answer", "")),
                citations=[_citation(c) for c in json.loads(str(meta.get("citations", "[]")))],
                similarity=round(similarity, 4),
                language=str(meta.get("language", "")),
                category=str(meta["category"]) if meta.get("category") else None,
            )
        return None
