"""The long-lived parts of a serving process, built once from Settings.

The API lifespan, ``triage worker`` and the benchmark all build a ``Runtime``; nothing
here runs at import time.  Building migrates the database first, under a lock, so any
number of processes may start at once against the same database (services/database.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.knowledge import KnowledgeBase, build_knowledge_base
from app.operations.autosend.gate import AutoSendGate, build_auto_send
from app.services.database import prepare_database
from app.settings import Settings
from app.store.models import Ticket
from app.triage.draft.protocol import Turn
from app.triage.results import AskResult

log = logging.getLogger(__name__)


def offline_settings(settings: Settings) -> Settings:
    """The same settings with the LLM switched off (for the fast screening pipeline)."""
    return settings.model_copy(update={"openai_api_key": None, "openai_base_url": None})


class Pipeline(Protocol):
    """What the service needs of the triage pipeline (``app.triage.pipeline``)."""

    # ``history``: the conversation before the message (follow-ups, app/conversations).
    def run(self, message: str, *, history: Sequence[Turn] = ()) -> AskResult: ...


@dataclass
class Runtime:
    """Everything a serving process shares between requests and worker threads.

    ``pipeline`` is the configured one (LLM drafts when an LLM is set).  ``screening``
    is an offline pipeline used at ticket creation in LLM mode, so the ticket gets its
    redaction, signals and a first triage immediately while the LLM draft is written by
    the drafting worker; without an LLM both are the same object.
    """

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    kb: KnowledgeBase
    pipeline: Pipeline
    screening: Pipeline
    owns_engine: bool = field(default=True)

    @cached_property
    def auto_send(self) -> AutoSendGate:
        """Which new drafts are sent without an agent (app/operations/autosend)."""
        return build_auto_send(self.settings)

    def close(self) -> None:
        if self.owns_engine:
            self.engine.dispose()

    def queue_depth(self) -> dict[str, int]:
        with self.sessions() as session:
            rows = session.execute(
                select(Ticket.status, func.count())
                .where(Ticket.status.in_(("drafting", "pending_review", "escalated")))
                .group_by(Ticket.status)
            ).all()
        return {str(status): int(count) for status, count in rows}


def build_runtime(
    settings: Settings,
    *,
    kb: KnowledgeBase | None = None,
    pipeline: Pipeline | None = None,
) -> Runtime:
    """Migrate and connect the store, then build (or adopt) the knowledge base and pipeline.

    Passing ``kb``/``pipeline`` lets tests and benchmarks share one loaded model between
    several apps; a server builds its own.
    """
    engine, sessions = prepare_database(settings)
    try:
        auto_send = build_auto_send(settings)  # a bad policy file fails start-up
        kb = kb or build_knowledge_base(settings)
        # Imported here: the triage models load at start-up, never at import time.
        from app.services.pipelines import build_pipeline

        pipeline = pipeline or build_pipeline(settings, kb)
        screening = (
            build_pipeline(offline_settings(settings), kb) if settings.llm_enabled else pipeline
        )
        from app.triage.pipeline import TriagePipeline

        for each in dict.fromkeys((screening, pipeline)):
            if isinstance(each, TriagePipeline):
                each.warm()  # trained at start-up, never on the first ticket
    except BaseException:
        engine.dispose()
        raise
    log.info(
        "runtime ready",
        extra={
            "database": make_url(settings.resolved_database_url).get_backend_name(),
            "collection": kb.store.name,
            "llm": settings.llm_enabled,
        },
    )
    runtime = Runtime(settings, engine, sessions, kb, pipeline, screening)
    runtime.auto_send = auto_send
    return runtime
