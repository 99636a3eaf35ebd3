"""The store's engine for a serving process: pool sizing and start-up migration.

Kept free of the knowledge-base and model imports, so light commands (``triage tokens
create``) open the database without loading the triage stack.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from app.store import create_engine_for, migrate, session_factory

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
    """Engine (pool sized by settings), migrated to head, and its sessionmaker."""
    url = settings.resolved_database_url
    kwargs: dict[str, int | bool] = {}
    if make_url(url).get_backend_name() in {"postgresql", "postgres"}:
        kwargs = {
            "pool_size": settings.db_pool_size,
            "max_overflow": settings.db_pool_size,
            "pool_pre_ping": settings.db_pool_pre_ping,
        }
    engine = create_engine_for(url, **kwargs)
    with migration_lock(engine):
        migrate(engine)
    return engine, session_factory(engine)
