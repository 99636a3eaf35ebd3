"""`triage sql` as a user runs it: a real process on a real database (SQLite, and once
on PostgreSQL), printing tables, CSV or JSON, and one-line errors with exit code 1."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.store.db import create_engine_for, migrate, session_factory
from tests.app.operations import metric_fixture
from tests.conftest import REPO_ROOT
from tests.postgres import PostgresDatabases


def _database(url: str) -> str:
    engine = create_engine_for(url)
    try:
        migrate(engine)
        with session_factory(engine).begin() as session:
            metric_fixture.load(session)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _database(f"sqlite:///{tmp_path_factory.mktemp('sqlcli') / 'triage.db'}")


def triage(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(TRIAGE_DATABASE_URL=url, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", "sql", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_formats(sqlite_url: str) -> None:
    as_json = triage(sqlite_url, "breaches_by_agent", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)[0] == {
        "agent": "bob",
        "tickets": 2,
        "breached": 2,
        "first_response_breached": 1,
        "next_response_breached": 0,
        "resolution_breached": 1,
        "attainment": 0.0,
    }
    assert json.loads(triage(sqlite_url, "breaches_by_agent", "--json").stdout) == json.loads(
        as_json.stdout
    )

    as_csv = triage(sqlite_url, "reopened_tickets", "--format", "csv")
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0][:4] == ["ticket_id", "created_at", "last_reopened_at", "reopens"]
    assert rows[1][:4] == ["tkt_03", "2024-03-06T08:00:00Z", "2024-03-06T10:00:00Z", "1"]

    table = triage(sqlite_url, "tickets_with_error_code", "--param", "code=E_PAYOUT_STUCK")
    lines = table.stdout.splitlines()
    assert lines[0].split() == [
        "ticket_id",
        "created_at",
        "status",
        "category",
        "priority",
        "matched_in",
    ]
    assert [line.split()[0] for line in lines[2:]] == ["tkt_02", "tkt_06"]


def test_list(sqlite_url: str) -> None:
    listed = json.loads(triage(sqlite_url, "--list", "--json").stdout)
    history = next(q for q in listed if q["name"] == "ticket_history")
    assert history["params"] == [
        {
            "name": "ticket_id",
            "type": "text",
            "required": True,
            "default": None,
            "description": "The ticket's id (tkt_…).",
        }
    ]
    assert "ticket_history ticket_id=<text>" in triage(sqlite_url, "--list").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no_such_query"], "unknown query 'no_such_query'"),
        (["ticket_history", "--param", "ticket=tkt_01"], "unknown parameter ticket"),
        (["ticket_history"], "needs --param ticket_id"),
        (["breaches_by_agent", "--param", "since=last week"], "is not a valid date"),
        (["breaches_by_agent", "--param", "since"], "write it as NAME=VALUE"),
        (["breaches_by_agent", "--format", "xml"], "--format must be one of"),
    ],
)
def test_mistakes_get_one_line_and_exit_1(sqlite_url: str, args: list[str], message: str) -> None:
    done = triage(sqlite_url, *args)
    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert message in done.stderr


def test_a_template_that_writes_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    (tmp_path / "purge.sql").write_text(
        "-- description: Tidy up.\n"
        "WITH gone AS (DELETE FROM tickets RETURNING id) SELECT * FROM gone\n"
    )
    done = triage(sqlite_url, "purge", "--queries", str(tmp_path))
    assert done.returncode == 1
    assert "DELETE is not allowed" in done.stderr
    assert len(json.loads(triage(sqlite_url, "breaches_by_agent", "--json").stdout)) == 3


@pytest.mark.postgres
def test_runs_on_postgresql(pg_databases: PostgresDatabases) -> None:
    url = _database(pg_databases.create())
    done = triage(url, "ticket_history", "--param", "ticket_id=tkt_01", "--json")
    assert done.returncode == 0, done.stderr
    assert [(r["at"], r["source"], r["kind"]) for r in json.loads(done.stdout)] == [
        ("2024-03-04T09:00:00Z", "message", "customer"),
        ("2024-03-04T09:00:30Z", "draft", "sent"),
        ("2024-03-04T09:05:00Z", "message", "system"),
        ("2024-03-04T09:10:00Z", "review", "approve"),
        ("2024-03-04T10:00:00Z", "message", "system"),
    ]
