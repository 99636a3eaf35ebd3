"""Start-up migration under concurrency, and the outbox sender chosen by channel (the
drafting worker's tests are in tests/app/services/test_drafting.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import inspect

from app.services import delivery
from app.store import create_engine_for
from app.store.db import current_revision
from app.store.models import OutboxMessage
from tests.api.conftest import PYTHON
from tests.conftest import REPO_ROOT
from tests.postgres import PostgresDatabases

MIGRATE = """
import sys, time
from app.services.database import prepare_database
from app.settings import Settings
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
engine, _ = prepare_database(Settings(database_url=sys.argv[1]))
engine.dispose()
"""


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_processes_starting_at_once_migrate_an_empty_database_safely(
    backend: str, tmp_path: Path, pg_databases: PostgresDatabases
) -> None:
    import subprocess

    url = f"sqlite:///{tmp_path / 'race.db'}" if backend == "sqlite" else pg_databases.create()
    start = time.time() + 2.5  # every process is imported and waiting by then
    procs = [
        subprocess.Popen(
            [PYTHON, "-c", MIGRATE, url, str(start)],
            cwd=REPO_ROOT,
            stderr=subprocess.PIPE,
            env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
        )
        for _ in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-2000:]
    engine = create_engine_for(url)
    try:
        assert current_revision(engine) is not None
        assert "tickets" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


# -- delivery -----------------------------------------------------------------------------


def _message(channel: str) -> OutboxMessage:
    return OutboxMessage(
        id=f"obx_{channel}", ticket_id="tkt_1", draft_id="drf_1", channel=channel,
        payload={"text": "hi"}, status="sending", attempts=1,
    )  # fmt: skip


def test_sender_routes_slack_to_the_slack_sender_and_records_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    posted: list[str] = []
    send = delivery.build_sender(lambda message: posted.append(message.id))
    with caplog.at_level("INFO", logger="app.services.delivery"):
        for channel in ("slack", "api", "widget"):
            send(_message(channel))
    assert posted == ["obx_slack"]
    delivered = [r for r in caplog.records if r.getMessage() == "reply delivered"]
    assert [getattr(r, "channel", None) for r in delivered] == ["api", "widget"]
    assert all("hi" not in r.getMessage() for r in caplog.records)
