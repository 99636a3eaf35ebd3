"""A failed statement on PostgreSQL logs and raises without the row's values.

Regression: a ticket insert refused by PostgreSQL printed its bound parameters (an AWS
secret, a metadata password) in the exception text, so in the server's log and on stderr.
Engines from ``create_engine_for`` hide parameters; the test drives a real failing insert.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from app.store import tickets
from app.store.db import create_engine_for, migrate, session_factory
from tests.postgres import PostgresDatabases

pytestmark = pytest.mark.postgres

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYq8Lm2Tk9dZ"
META_PASSWORD = "Tr0ub4dor&3-metadata"


@pytest.fixture
def pg_engine(pg_databases: PostgresDatabases) -> Iterator[Engine]:
    engine = create_engine_for(pg_databases.create(), echo=True)
    migrate(engine)
    yield engine
    engine.dispose()


def test_failed_insert_keeps_the_row_out_of_errors_and_logs(
    pg_engine: Engine, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    sessions = session_factory(pg_engine)
    with pytest.raises(DBAPIError) as failure, sessions.begin() as session:
        tickets.create_ticket(
            session,
            channel="c" * 40,  # longer than the column: PostgreSQL refuses the row
            reporter="dev@example.com",
            message=f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}",
            metadata={"password": META_PASSWORD},
        )
    # What a server does with an unexpected error: log it with its traceback, print it.
    logging.getLogger("triage.test").exception("ticket insert failed")
    traceback.print_exception(failure.value)
    assert "value too long" in str(failure.value)  # the failure really came from the insert
    printed = capsys.readouterr()
    for secret in (AWS_SECRET, META_PASSWORD):
        assert secret not in str(failure.value)
        assert secret not in repr(failure.value)
        assert secret not in caplog.text
        assert secret not in printed.err + printed.out


def test_statement_echo_hides_parameters_too(
    pg_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    with session_factory(pg_engine).begin() as session:
        tickets.create_ticket(
            session, channel="api", reporter=None, message="x", metadata={"pwd": META_PASSWORD}
        )
    assert "INSERT INTO tickets" in caplog.text
    assert META_PASSWORD not in caplog.text
