"""The knowledge-gap report: what developers asked that the documentation did not answer,
grouped by topic and ranked, with the doc sections nearest to each topic.

Steps: collect the gap signals of this period and the one before (sources.py); embed
each question with the knowledge base's own model (Spanish and Portuguese questions as
their English gloss, as retrieval reads them); cluster both periods together so a
topic is the same topic in each (topics.py); name topics by c-TF-IDF; then for each
topic search the knowledge base (hybrid and dense) with its most typical question and
rank the sections found by their mean cosine similarity to the topic's questions.  A
topic with a section at least ``gaps_doc_match_min_similarity`` close is a
``retrieval_miss`` (the docs have something close: retrieval or drafting missed it);
otherwise a ``docs_gap``.

Ranking (``rank_key``): the topics farthest from the docs first, in steps of 0.1 of
their nearest section's similarity, the most asked (distinct tickets and answers this
period) first within a step.  Measured by bench/gaps.py.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, computed_field
from sqlalchemy.orm import Session, sessionmaker

from app.knowledge import KnowledgeBase
from app.operations.gaps import topics
from app.operations.gaps.sources import GapQuestion, collect, gap_signals
from app.settings import Settings
from app.store.columns import utcnow
from ingest.multilingual import english_query
from ingest.vector_cache import VectorCache

GapKind = Literal["retrieval_miss", "docs_gap"]
Direction = Literal["new", "up", "down", "flat"]

EXAMPLES = 3
EXAMPLE_CHARS = 280
NEAREST = 3
# Sections fetched per topic before re-ranking them by similarity to the topic.
CANDIDATES = 10


class Trend(BaseModel):
    """Questions on the topic this period and in the period of the same length before."""

    current: int
    previous: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def direction(self) -> Direction:
        if self.previous == 0:
            return "new"
        if self.current == self.previous:
            return "flat"
        return "up" if self.current > self.previous else "down"


class NearestDoc(BaseModel):
    doc_id: str
    source: str
    title: str
    heading: str
    url: str | None
    chunk_id: str
    similarity: float


class Gap(BaseModel):
    topic: str = Field(description="The topic's most distinctive words (c-TF-IDF).")
    keywords: list[str]
    count: int = Field(description="Questions this period: distinct tickets and answers.")
    trend: Trend
    examples: list[str] = Field(description="Questions as stored (redacted), typical first.")
    nearest_docs: list[NearestDoc]
    kind: GapKind = Field(
        description="retrieval_miss: a doc section is close, retrieval or drafting missed "
        "it; docs_gap: nothing in the docs is close."
    )
    ticket_ids: list[str]
    answer_ids: list[str] = Field(description="Self-service answers marked as not helping.")
    sources: dict[str, int] = Field(description="Questions per signal: handoff, didnt_help, …")
    last_seen: datetime


class GapReport(BaseModel):
    since: datetime
    until: datetime
    previous_since: datetime
    questions: int = Field(description="Gap signals this period, before clustering.")
    gaps: list[Gap] = Field(default_factory=list)


# Similarity steps within which topics count as equally far from the docs.
DISTANCE_STEP = 0.1


def rank_key(gap: Gap) -> tuple[float, int, float]:
    """Topics farthest from the docs first (in steps of DISTANCE_STEP of their nearest
    section's similarity), the most asked first within a step, then the most recent.

    Distance leads because it is what tells a missing page from a missed one: on the
    labelled Grid histories of bench/gaps.py, ordering by volume alone put no truly
    undocumented topic in the first five."""
    nearest = gap.nearest_docs[0].similarity if gap.nearest_docs else 0.0
    return (math.floor(nearest / DISTANCE_STEP), -gap.count, -gap.last_seen.timestamp())


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXAMPLE_CHARS else flat[: EXAMPLE_CHARS - 1].rstrip() + "…"


class GapReporter:
    def __init__(
        self, settings: Settings, kb: KnowledgeBase, sessions: sessionmaker[Session]
    ) -> None:
        self.settings = settings
        self.kb = kb
        self.sessions = sessions
        # Embedding the questions is most of a report's time, and the same questions come
        # back in every report of the period: their vectors are kept (bounded, LRU).
        self._vectors = VectorCache(
            kb.embeddings.embed_documents, max_size=2 * settings.gaps_max_questions
        )

    def period(
        self, since: datetime | None, now: datetime | None = None
    ) -> tuple[datetime, datetime, datetime]:
        """(previous period start, this period start, end): two periods of one length."""
        until = now or utcnow()
        start = since or until - timedelta(days=self.settings.gaps_period_days)
        if start >= until:
            raise ValueError("the report's start must be before its end")
        # A start centuries ago would put the previous period before year 1.
        earliest = datetime.min.replace(tzinfo=start.tzinfo)
        previous = start - min(until - start, start - earliest)
        return previous, start, until

    def report(self, since: datetime | None = None, *, now: datetime | None = None) -> GapReport:
        previous_since, start, until = self.period(since, now)
        with self.sessions() as session:
            questions = collect(
                session, previous_since, until, limit=self.settings.gaps_max_questions
            )
        current = sum(1 for q in questions if q.at >= start)
        if not questions:
            return GapReport(
                since=start, until=until, previous_since=previous_since, questions=current
            )
        # Retrieval reads es/pt questions as their English gloss; so do topics and names.
        glossed = [english_query(q.text) or q.text for q in questions]
        vectors = self._embed(glossed)
        labels = topics.cluster(vectors, self.settings.gaps_cluster_distance)
        groups: dict[int, list[int]] = {}
        for index, label in enumerate(labels):
            groups.setdefault(label, []).append(index)
        live = [rows for rows in groups.values() if any(questions[i].at >= start for i in rows)]
        names = topics.keywords(
            [[glossed[i] for i in rows] for rows in live], gap_signals().filler_words
        )
        gaps = [
            self._gap(questions, vectors, rows, words, start)
            for rows, words in zip(live, names, strict=True)
        ]
        gaps.sort(key=rank_key)
        return GapReport(
            since=start, until=until, previous_since=previous_since, questions=current, gaps=gaps
        )

    def _embed(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        """Unit vectors of ``texts``, known ones from the cache."""
        return self._vectors.unit_vectors(texts)

    def _gap(
        self,
        questions: Sequence[GapQuestion],
        vectors: np.ndarray[Any, Any],
        rows: list[int],
        words: list[str],
        start: datetime,
    ) -> Gap:
        now_rows = [i for i in rows if questions[i].at >= start]
        before_rows = [i for i in rows if questions[i].at < start]
        members = vectors[now_rows]
        typical = now_rows[topics.medoid(members)]
        nearest = self._nearest(questions[typical].text, members)
        close = nearest[0].similarity if nearest else 0.0
        ordered = sorted(now_rows, key=lambda i: questions[i].at, reverse=True)
        texts = [questions[typical].text] + [questions[i].text for i in ordered if i != typical]
        tickets = list(dict.fromkeys(t for i in ordered if (t := questions[i].ticket_id)))
        answers = list(dict.fromkeys(a for i in ordered if (a := questions[i].answer_id)))
        previous = {questions[i].ticket_id or questions[i].answer_id for i in before_rows}
        examples = list(dict.fromkeys(_excerpt(t) for t in texts))[:EXAMPLES]
        kind: GapKind = (
            "retrieval_miss" if close >= self.settings.gaps_doc_match_min_similarity else "docs_gap"
        )
        return Gap(
            topic=", ".join(words) or examples[0][:60],
            keywords=words,
            count=len(tickets) + len(answers),
            trend=Trend(current=len(tickets) + len(answers), previous=len(previous)),
            examples=examples,
            nearest_docs=nearest,
            kind=kind,
            ticket_ids=tickets,
            answer_ids=answers,
            sources=dict(Counter(questions[i].source for i in now_rows)),
            last_seen=questions[ordered[0]].at,
        )

    def _nearest(self, query: str, members: np.ndarray[Any, Any]) -> list[NearestDoc]:
        """Doc sections near the topic, by mean cosine similarity to its questions."""
        retriever = self.kb.retriever
        # Hybrid finds the pages that share the question's words; dense alone adds the
        # sections closest in meaning, which fused ranking may push out of the first k.
        found = {
            h.chunk_id: h
            for mode in ("hybrid", "dense")
            for h in retriever.search(query, k=CANDIDATES, mode=mode)
        }
        hits, _flagged = retriever.screen(list(found.values()))
        if not hits:
            return []
        stored = self.kb.store.embeddings_for([h.chunk_id for h in hits])
        scored = []
        for hit in hits:
            vector = stored.get(hit.chunk_id)
            if vector is None:
                continue
            chunk = np.asarray(vector, dtype=float)
            chunk = chunk / max(float(np.linalg.norm(chunk)), 1e-12)
            scored.append((float((members @ chunk).mean()), hit))
        scored.sort(key=lambda pair: pair[0], reverse=True)
        return [
            NearestDoc(
                doc_id=hit.doc_id,
                source=hit.source,
                title=hit.title,
                heading=hit.heading,
                url=hit.url,
                chunk_id=hit.chunk_id,
                similarity=round(similarity, 4),
            )
            for similarity, hit in scored[:NEAREST]
        ]
