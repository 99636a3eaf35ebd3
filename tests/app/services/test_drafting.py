"""The drafting worker: one worker per ticket through its lease, a dead worker's ticket
taken over, the LLM's triage adopted, and the offline and escalation fallbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from app.observability import Metrics
from app.services.database import prepare_database
from app.services.drafting import DraftingWorker
from app.services.runtime import Runtime
from app.settings import Settings
from app.store import draft_leases
from app.store import tickets as ticket_store
from app.triage.draft.protocol import Turn
from app.triage.results import AskResult, DraftReply, Provenance, TriageResult
from app.triage.screen.signals import Signals
from tests.postgres import PostgresDatabases

LEASE_SECONDS = 60
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


class ScriptedPipeline:
    def __init__(self, drafter: str, *, fail: bool = False) -> None:
        self.drafter = drafter
        self.fail = fail
        self.calls: list[str] = []
        self.histories: list[list[Turn]] = []

    def run(self, message: str, *, history: Sequence[Turn] = ()) -> AskResult:
        self.calls.append(message)
        self.histories.append(list(history))
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


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'w.db'}"
    databases: PostgresDatabases = request.getfixturevalue("pg_databases")
    return databases.create()


RuntimeFor = Callable[[Any, Any], Runtime]


@pytest.fixture
def runtime_for(database_url: str) -> Iterator[RuntimeFor]:
    built: list[Runtime] = []

    def make(pipeline: Any, screening: Any) -> Runtime:
        settings = Settings(database_url=database_url)
        engine, sessions = prepare_database(settings)
        kb = cast(Any, None)  # the drafting worker never touches the knowledge base
        built.append(Runtime(settings, engine, sessions, kb, pipeline, screening))
        return built[-1]

    yield make
    for runtime in built:
        runtime.close()


def _drafting_ticket(runtime: Runtime) -> str:
    with runtime.sessions.begin() as session:
        ticket = ticket_store.create_ticket(
            session, channel="api", reporter=None, message="How do I authenticate?",
            triage={"category": "other", "priority": "P3"}, status="drafting",
        )  # fmt: skip
        return ticket.id


def _worker(runtime: Runtime, name: str, clock: Clock) -> DraftingWorker:
    return DraftingWorker(runtime, Metrics(), name, lease_seconds=LEASE_SECONDS, clock=clock)


def test_a_leased_ticket_is_left_alone_until_its_lease_ends(runtime_for: RuntimeFor) -> None:
    llm, offline = ScriptedPipeline("llm"), ScriptedPipeline("offline")
    runtime = runtime_for(llm, offline)
    ticket_id = _drafting_ticket(runtime)
    clock = Clock()
    first, second = _worker(runtime, "w1", clock), _worker(runtime, "w2", clock)
    # w2 holds the lease (it is mid-draft): w1 must leave the ticket alone.
    lease = second.claim()
    assert lease is not None
    assert lease.ticket_id == ticket_id
    assert first.run_once() == 0
    assert llm.calls == []
    # w2 died; once its lease is over, another worker takes the ticket over.
    clock.now += timedelta(seconds=LEASE_SECONDS)
    assert _worker(runtime, "w3", clock).run_once() == 1
    with runtime.sessions() as session:
        ticket = ticket_store.get_ticket(session, ticket_id)
        assert ticket.status == "pending_review"
        assert ticket.triage["classifier"] == "llm"
        assert ticket.category == "auth_api_access"
        assert [d.text for d in ticket.drafts] == ["llm reply"]
        assert draft_leases.holder(session, ticket_id) is None
    # w2 comes back to life: it lost the ticket and stores nothing.
    assert not second.draft_one(lease)
    with runtime.sessions() as session:
        assert [d.text for d in ticket_store.get_ticket(session, ticket_id).drafts] == ["llm reply"]
    assert first.run_once() == 0, "nothing left in drafting"


def test_drafting_falls_back_to_offline_then_escalates(runtime_for: RuntimeFor) -> None:
    runtime = runtime_for(ScriptedPipeline("llm", fail=True), ScriptedPipeline("offline"))
    ticket_id = _drafting_ticket(runtime)
    assert _worker(runtime, "w", Clock()).run_once() == 1
    with runtime.sessions() as session:
        assert [d.text for d in ticket_store.get_ticket(session, ticket_id).drafts] == [
            "offline reply"
        ]

    broken = ScriptedPipeline("offline", fail=True)
    runtime = runtime_for(ScriptedPipeline("llm", fail=True), broken)
    stuck = _drafting_ticket(runtime)
    assert _worker(runtime, "w", Clock()).run_once() == 1
    with runtime.sessions() as session:
        ticket = ticket_store.get_ticket(session, stuck)
        assert ticket.status == "escalated"
        assert ticket.drafts == []
        assert draft_leases.holder(session, stuck) is None
