"""Start-up migration under concurrency, the drafting worker's lease and fallbacks, and
the outbox sender chosen by channel."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import inspect, select

from app.observability import Metrics
from app.services import delivery
from app.services.database import prepare_database
from app.services.drafting import SCOPE, DraftingWorker
from app.services.runtime import Runtime
from app.settings import Settings
from app.store import create_engine_for
from app.store import tickets as ticket_store
from app.store.db import current_revision
from app.store.models import IdempotencyRecord, OutboxMessage
from app.triage.results import AskResult, DraftReply, Provenance, TriageResult
from app.triage.screen.signals import Signals
from tests.api.conftest import PYTHON, PostgresDatabases
from tests.conftest import REPO_ROOT

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


# -- drafting worker ----------------------------------------------------------------------


class ScriptedPipeline:
    def __init__(self, drafter: str, *, fail: bool = False) -> None:
        self.drafter = drafter
        self.fail = fail
        self.calls: list[str] = []

    def run(self, message: str) -> AskResult:
        self.calls.append(message)
        if self.fail:
            raise RuntimeError("model unavailable")
        return AskResult(
            triage=TriageResult(
                category="auth_api_access", confidence=0.9, priority="P2", team="integrations",
                language="en", sentiment="neutral", classifier=self.drafter,
            ),
            signals=Signals(),
            redactions=[],
            draft=DraftReply(
                text=f"{self.drafter} reply", confidence=0.8, needs_human=False,
                provenance=Provenance(drafter="llm" if self.drafter == "llm" else "offline"),
            ),
            message=message,
        )  # fmt: skip


def _runtime(tmp_path: Path, pipeline: Any, screening: Any) -> Runtime:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}")
    engine, factory = prepare_database(settings)
    kb = cast(Any, None)  # the drafting worker never touches the knowledge base
    return Runtime(settings, engine, factory, kb, pipeline, screening)


def _drafting_ticket(runtime: Runtime) -> str:
    with runtime.factory.begin() as session:
        ticket = ticket_store.create_ticket(
            session, channel="api", reporter=None, message="How do I authenticate?",
            triage={"category": "other", "priority": "P3"}, status="drafting",
        )  # fmt: skip
        return ticket.id


def test_drafting_worker_leases_tickets_and_replaces_the_triage(tmp_path: Path) -> None:
    llm, offline = ScriptedPipeline("llm"), ScriptedPipeline("offline")
    runtime = _runtime(tmp_path, llm, offline)
    ticket_id = _drafting_ticket(runtime)
    first = DraftingWorker(runtime, Metrics(), "w1", lease_seconds=60)
    second = DraftingWorker(runtime, Metrics(), "w2", lease_seconds=60)
    # w2 holds the lease (it is mid-draft): w1 must leave the ticket alone.
    assert second.claim(ticket_id)
    assert first.run_once() == 0
    assert llm.calls == []
    # w2 died; once its lease is over, another worker takes the ticket over.
    expired = DraftingWorker(runtime, Metrics(), "w3", lease_seconds=0)
    assert expired.run_once() == 1
    with runtime.factory() as session:
        ticket = ticket_store.get_ticket(session, ticket_id)
        assert ticket.status == "pending_review"
        assert ticket.triage["classifier"] == "llm"
        assert ticket.category == "auth_api_access"
        assert [d.text for d in ticket.drafts] == ["llm reply"]
    assert first.run_once() == 0, "nothing left in drafting"
    runtime.close()


def test_drafting_falls_back_to_offline_then_escalates(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, ScriptedPipeline("llm", fail=True), ScriptedPipeline("offline"))
    ticket_id = _drafting_ticket(runtime)
    assert DraftingWorker(runtime, Metrics(), "w", lease_seconds=60).run_once() == 1
    with runtime.factory() as session:
        assert [d.text for d in ticket_store.get_ticket(session, ticket_id).drafts] == [
            "offline reply"
        ]

    broken = ScriptedPipeline("offline", fail=True)
    runtime2 = _runtime(tmp_path / "b", ScriptedPipeline("llm", fail=True), broken)
    stuck = _drafting_ticket(runtime2)
    assert DraftingWorker(runtime2, Metrics(), "w", lease_seconds=60).run_once() == 1
    with runtime2.factory() as session:
        ticket = ticket_store.get_ticket(session, stuck)
        assert ticket.status == "escalated"
        assert ticket.drafts == []
        record = session.scalars(
            select(IdempotencyRecord).where(IdempotencyRecord.scope == SCOPE)
        ).one()
        assert record.state == "done"
    runtime.close()
    runtime2.close()


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
