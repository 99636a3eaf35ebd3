"""The long-lived parts of a serving process, built once from Settings.

The API lifespan, ``triage worker`` and the benchmark all build a ``Runtime``; nothing
here runs at import time.  Building migrates the database first, under a lock, so any
number of processes may start at once against the same database.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.knowledge import KnowledgeBase, build_knowledge_base
from app.settings import Settings
from app.store import create_engine_for, migrate, session_factory
from app.store.models import Ticket
from app.triage.models import AskResult

log = logging.getLogger(__name__)

# Any fixed 64-bit number works; this one spells "triagemg" so it is recognisable in
# pg_locks when someone wonders who holds it.
_MIGRATION_LOCK_KEY = int.from_bytes(b"triagemg", "big") & 0x7FFF_FFFF_FFFF_FFFF


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Serialise schema migrations across processes.

    Alembic does not lock by itself: two processes upgrading an empty PostgreSQL
    database both try ``CREATE TABLE`` and one fails.  PostgreSQL: a session-level
    advisory lock held on its own connection while ``migrate`` runs on another (the
    loser waits, then finds the schema at head and does nothing).  SQLite: an exclusive
    ``flock`` on a file beside the database, because a second writer there would fail
    with a stale snapshot rather than wait.
    """
    url = make_url(engine.url)
    if url.get_backend_name() == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK_KEY})
                conn.commit()
        return
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
    with lock_path.open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare_database(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    """Engine (pool sized by settings), migrated to head, and its session factory."""
    url = settings.resolved_database_url
    kwargs: dict[str, int] = {}
    if make_url(url).get_backend_name() in {"postgresql", "postgres"}:
        kwargs = {"pool_size": settings.db_pool_size, "max_overflow": settings.db_pool_size}
    engine = create_engine_for(url, **kwargs)
    with migration_lock(engine):
        migrate(engine)
    return engine, session_factory(engine)


def offline_settings(settings: Settings) -> Settings:
    """The same settings with the LLM switched off (for the fast screening pipeline)."""
    return settings.model_copy(update={"openai_api_key": None, "openai_base_url": None})


class Pipeline(Protocol):
    """What the service needs of the triage pipeline (``app.triage.pipeline``)."""

    def run(self, message: str) -> AskResult: ...


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
    factory: sessionmaker[Session]
    kb: KnowledgeBase
    pipeline: Pipeline
    screening: Pipeline
    owns_engine: bool = field(default=True)

    def close(self) -> None:
        if self.owns_engine:
            self.engine.dispose()

    def queue_depth(self) -> dict[str, int]:
        with self.factory() as session:
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
    engine, factory = prepare_database(settings)
    try:
        kb = kb or build_knowledge_base(settings)
        # Imported here: the triage models load at start-up, never at import time.
        from app.triage.factory import build_pipeline

        pipeline = pipeline or build_pipeline(settings, kb)
        screening = build_pipeline(offline_settings(settings), kb) if settings.llm_enabled else pipeline
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
    return Runtime(settings, engine, factory, kb, pipeline, screening)
