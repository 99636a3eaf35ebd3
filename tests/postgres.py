"""Throwaway PostgreSQL databases on the local server (127.0.0.1:5432, trust auth)."""

from __future__ import annotations

import os
import secrets

from sqlalchemy import Engine, create_engine, text

PG_ADMIN_URL = os.environ.get(
    "STORE_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


class PostgresDatabases:
    """Creates databases for one test session and drops them all at its end."""

    def __init__(self, admin_url: str = PG_ADMIN_URL) -> None:
        self._admin: Engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self._created: list[str] = []

    def create(self) -> str:
        name = f"triage_test_{secrets.token_hex(6)}"
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self._created.append(name)
        return self._admin.url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self._admin.connect() as conn:
            for name in self._created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()
