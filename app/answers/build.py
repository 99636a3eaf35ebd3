"""Builds the reusable-answers parts from Settings and an already built knowledge base."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from app.answers.index import AnswerIndex
from app.answers.service import ReusableAnswers, ReverifyReport
from app.knowledge import KnowledgeBase
from app.services.database import prepare_database
from app.settings import Settings


def build_reusable_answers(
    settings: Settings, kb: KnowledgeBase, sessions: sessionmaker[Session] | None = None
) -> ReusableAnswers:
    """Answers beside ``kb``'s docs collection, in the same Chroma and vector space."""
    index = AnswerIndex(
        kb.store.client,
        kb.store.name,
        kb.embeddings,
        model_name=kb.embeddings.model_name,
        dimension=kb.embeddings.dimension,
        min_similarity=settings.reusable_answer_min_similarity,
    )
    return ReusableAnswers(index, kb.store, sessions)


def reverify_after_ingest(settings: Settings, kb: KnowledgeBase) -> ReverifyReport | None:
    """Re-check the collection's reusable answers against the docs just synced.

    None when the collection has never had a reusable answer: ingest then needs no
    database at all (a fresh machine's first ``triage ingest`` creates none).
    """
    answers = build_reusable_answers(settings, kb)
    if not answers.index.exists():
        return None
    engine, sessions = prepare_database(settings)
    try:
        answers.sessions = sessions
        return answers.reverify()
    finally:
        engine.dispose()
