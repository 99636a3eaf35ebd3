"""Alembic environment: runs on the connection handed over by ``app.store.db``.

There is no alembic.ini and no URL here on purpose: ``migrate(engine)`` builds the
configuration in code and passes its open connection, so the same engine settings
(SQLite pragmas, psycopg driver) apply to migrations and to the app.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from app.store.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if context.is_offline_mode() or not isinstance(connection, Connection):
    raise RuntimeError("run the store's migrations through app.store.db.migrate(engine)")
_run(connection)
