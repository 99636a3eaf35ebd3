"""Run a statement read-only on SQLite or PostgreSQL.

The database itself refuses writes: PostgreSQL runs the statement in a READ ONLY
transaction (with a statement timeout), SQLite on a connection with ``PRAGMA
query_only`` on.  The transaction is rolled back afterwards either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, TextClause
from sqlalchemy.exc import DBAPIError

from app.operations.investigations.queries import Template, TemplateError, bind
from app.operations.metrics.values import plain

DEFAULT_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Rows:
    columns: list[str]
    rows: list[list[Any]]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class ReadOnlyViolation(TemplateError):
    """The database refused the statement because it writes."""


def run_read_only(
    engine: Engine,
    statement: TextClause,
    params: dict[str, Any],
    *,
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS,
) -> Rows:
    """Rows of ``statement``, values made database-independent (app/operations/values.py)."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            conn.exec_driver_sql("PRAGMA query_only = ON")
        else:
            # The first statement of the transaction, as PostgreSQL requires.
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_seconds) * 1000}")
        try:
            result = conn.execute(statement, params)
            columns = list(result.keys())
            rows = [[plain(v) for v in row] for row in result.all()]
        except DBAPIError as exc:
            if _is_write_refusal(exc):
                raise ReadOnlyViolation(
                    "the database refused a write: queries may only read"
                ) from None
            raise
        finally:
            conn.rollback()
            if sqlite:
                # The connection goes back to the pool: leave it as it was.
                conn.exec_driver_sql("PRAGMA query_only = OFF")
    return Rows(columns, rows)


def _is_write_refusal(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return (
        "read-only transaction" in message
        or "readonly database" in message
        or ("attempt to write" in message)
    )


def run_template(engine: Engine, template: Template, given: dict[str, str]) -> Rows:
    statement, values = bind(template, given)
    return run_read_only(engine, statement, values)
