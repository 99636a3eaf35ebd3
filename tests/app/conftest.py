"""Database fixtures: every store (and service) test runs against SQLite and PostgreSQL.

Each pytest run creates its own PostgreSQL database (``triage_test_<random>``) on the
local server and drops it at the end; the schema comes from the migrations, as in
production.  Tests share one migrated database per backend and start from empty tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from app.store import tickets
from app.store.db import create_engine_for, migrate, session_factory
from app.store.models import Base
from tests.postgres import PostgresDatabases

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


NewUrl = Callable[[], str]


@pytest.fixture(scope="session")
def new_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> NewUrl:
    def make() -> str:
        path: Path = tmp_path_factory.mktemp("store") / "triage.db"
        return f"sqlite:///{path}"

    return make


@pytest.fixture(scope="session")
def _migrated_engines() -> Iterator[dict[str, Engine]]:
    engines: dict[str, Engine] = {}
    yield engines
    for engine in engines.values():
        engine.dispose()


def _engine_for(backend: str, request: pytest.FixtureRequest) -> Engine:
    engines: dict[str, Engine] = request.getfixturevalue("_migrated_engines")
    if backend not in engines:
        if backend == "sqlite":
            url = request.getfixturevalue("new_sqlite_url")()
        else:
            url = request.getfixturevalue("pg_databases").create()
        # Room for the concurrency tests' threads, each with its own connection.
        engine = create_engine_for(url, pool_size=60, max_overflow=0)
        migrate(engine)
        engines[backend] = engine
    return engines[backend]


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def engine(backend: str, request: pytest.FixtureRequest) -> Engine:
    engine = _engine_for(backend, request)
    _empty(engine)
    return engine


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as s:
        yield s


@pytest.fixture
def pg_sessions(request: pytest.FixtureRequest) -> sessionmaker[Session]:
    """PostgreSQL only: for tests about row locks that SQLite does not have."""
    engine = _engine_for("postgresql", request)
    _empty(engine)
    return session_factory(engine)


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, new_sqlite_url: NewUrl) -> str:
    """A brand-new database with no tables at all."""
    if request.param == "sqlite":
        return new_sqlite_url()
    databases: PostgresDatabases = request.getfixturevalue("pg_databases")
    return databases.create()


@dataclass(frozen=True)
class Seeded:
    ticket_id: str
    draft_id: str | None


class Seeder:
    """Committed tickets (optionally with a pending draft) for tests to act on."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def ticket(
        self,
        *,
        priority: str = "P2",
        category: str = "authentication",
        team: str = "platform",
        created_at: datetime | None = None,
        draft_text: str | None = "Rotate the key under Settings > API keys.",
        message: str = "My API key stopped working",
    ) -> Seeded:
        with self.sessions.begin() as s:
            ticket = tickets.create_ticket(
                s,
                channel="api",
                reporter="dev@example.com",
                message=message,
                metadata={"source": "test"},
                triage={
                    "category": category,
                    "confidence": 0.9,
                    "priority": priority,
                    "team": team,
                    "language": "en",
                    "sentiment": "neutral",
                    "flags": [],
                },
                signals={"api_key_present": False},
                redactions=[{"kind": "api_key", "placeholder": "[REDACTED_API_KEY_1]"}],
                now=created_at,
            )
            draft_id = None
            if draft_text is not None:
                draft = tickets.add_draft(
                    s,
                    ticket.id,
                    text=draft_text,
                    citations=[{"chunk_id": "c1", "doc_id": "docs/auth", "quote": "Rotate"}],
                    confidence=0.8,
                    needs_human=False,
                    provenance={"prompt_id": "draft", "prompt_version": 1, "model": "test"},
                    now=created_at,
                )
                draft_id = draft.id
            return Seeded(ticket.id, draft_id)


@pytest.fixture
def seed(sessions: sessionmaker[Session]) -> Seeder:
    return Seeder(sessions)


@pytest.fixture
def seed_pg(pg_sessions: sessionmaker[Session]) -> Seeder:
    return Seeder(pg_sessions)
