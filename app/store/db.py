"""Engines, sessions and schema migration for the review store.

Nothing here runs at import time: the app factory, CLI or worker calls
``create_engine_for(settings.resolved_database_url)`` once and ``migrate(engine)``
before serving.  The schema comes only from the Alembic migrations (never
``metadata.create_all``), so a database created today and one upgraded from last year
are the same database.

Transactions: services only flush; the caller owns the transaction, normally
``with sessions.begin() as session:``, which commits on success and rolls back on any
exception (including the store's domain errors).

SQLite: the stdlib driver's default ("legacy") transaction mode is kept on purpose.  It
opens the write transaction at the first INSERT/UPDATE/DELETE, so a service that reads
and then writes waits on ``busy_timeout`` for the write lock instead of failing with
SQLITE_BUSY on a stale snapshot.  Correctness therefore never rests on repeatable reads:
every state change is a single compare-and-set UPDATE, and no code uses SAVEPOINTs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

DEFAULT_BUSY_TIMEOUT_MS = 10_000

R = TypeVar("R")


class Transaction(Protocol[R]):
    """Runs ``work`` in one transaction: commits when it returns, rolls back when it raises.

    Services take one so that their caller may add to the transaction (the API edge
    stores an Idempotency-Key's response in it) without the service knowing of it.
    """

    def __call__(self, work: Callable[[Session], R], /) -> R: ...


@dataclass(frozen=True)
class PlainTransaction:
    """The ordinary ``Transaction``: ``sessions.begin()`` around the work."""

    sessions: sessionmaker[Session]

    def __call__(self, work: Callable[[Session], R], /) -> R:
        with self.sessions.begin() as session:
            return work(session)


def normalise_url(url: str) -> str:
    """Point PostgreSQL URLs at psycopg 3, whatever driver (or none) they name."""
    parsed = make_url(url)
    if parsed.get_backend_name() in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_engine_for(
    url: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, **engine_kwargs: Any
) -> Engine:
    """An engine for SQLite (file) or PostgreSQL with the pragmas/driver the store needs.

    ``engine_kwargs`` go to ``sqlalchemy.create_engine`` (e.g. ``pool_size``).
    """
    url = normalise_url(url)
    parsed = make_url(url)
    # A failed statement's error (logged, or shown in a traceback) must not carry its bound
    # values: a row holds customer text, and redaction can only ever be best effort.
    engine_kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **engine_kwargs)
        _install_sqlite_pragmas(engine, busy_timeout_ms)
        return engine
    engine_kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **engine_kwargs)


def _install_sqlite_pragmas(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            # WAL: readers never block the writer, and the writer never blocks readers.
            cursor.execute("PRAGMA journal_mode=WAL")
            # FULL fsyncs the WAL on every commit: an approval acknowledged to an agent
            # survives a power cut (NORMAL would only survive a process crash).
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        finally:
            cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (handlers serialise them then)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    # Built in code, not from alembic.ini, so migrations run from an installed wheel.
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table by dropping it; with foreign keys enforced that
            # drop cascades to every row referencing it (all drafts, when `tickets` is
            # rebuilt).  SQLite's documented procedure: checks off outside the transaction
            # (the pragma is a no-op inside one), `foreign_key_check` before committing.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            # The driver's legacy mode would autocommit each DDL statement; an explicit
            # BEGIN makes the whole upgrade one transaction, so a failed migration leaves
            # the previous schema intact instead of half a new one.
            connection.exec_driver_sql("BEGIN")
        try:
            yield connection
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                if broken is not None:
                    raise RuntimeError(f"migration left a dangling reference in {broken[0]}")
        except BaseException:
            connection.rollback()
            raise
        else:
            connection.commit()
        finally:
            if sqlite:
                # Back on for the pooled connection: the connect hook will not run again.
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` (Alembic ``upgrade head`` by default)."""
    from alembic import command

    with _migration_connection(engine) as connection:
        command.upgrade(_alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Downgrade the schema to ``revision``; ``base`` drops every store table."""
    from alembic import command

    with _migration_connection(engine) as connection:
        command.downgrade(_alembic_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        rev: str | None = MigrationContext.configure(connection).get_current_revision()
        return rev
