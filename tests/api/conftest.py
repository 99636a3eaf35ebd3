"""Fixtures for the review API: one knowledge base and pipeline per session, fresh
databases per test, real uvicorn servers on loopback for the end-to-end tests.

Cost control (2 shared cores): the ONNX export and the classifier training happen
once (``models_dir``), the Grid sample is ingested once by the real CLI, and in-process
apps share one loaded pipeline (``create_app(..., kb=, pipeline=)``).  Servers started
as subprocesses get their own data dirs, so no two processes open one embedded Chroma.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api import create_app
from app.knowledge import KnowledgeBase, build_knowledge_base
from app.services.runtime import Pipeline
from app.settings import Settings
from app.store import api_tokens
from tests.conftest import GRID_ROOT, GRID_SAMPLE, REPO_ROOT, embedding_cache_of, free_port
from tests.fakes import fake_openai
from tests.postgres import PostgresDatabases

__all__ = ["fake_openai"]

PYTHON = sys.executable

# Questions a Grid developer could really send; the sample holds the pages they need.
# A question the small test index answers above the drafter's hand-off floor.  (The
# earlier "every call returns 401 … basic auth?" now gets the docs' one-sentence answer
# at an answer probability of 0.12: the confidence model under-rates short answers.)
AUTH_QUESTION = "How do I authenticate my API requests?"
SANDBOX_QUESTION = "How do I test payouts in the sandbox environment before going live?"


# -- data: corpus, knowledge base, pipeline -------------------------------------------


@pytest.fixture(scope="session")
def api_corpus(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """The same pages as ``grid_sample``, copied once for the whole session."""
    dest = tmp_path_factory.mktemp("api-corpus") / "corpus"
    guides = sorted((GRID_ROOT / "docs" / "guides").rglob("*.md"))
    small = [p for p in guides if p.stat().st_size < 4000][:6]
    for src in dict.fromkeys([GRID_ROOT / p for p in GRID_SAMPLE] + small):
        target = dest / src.relative_to(GRID_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return dest


def base_env(models_dir: Path, **values: str) -> dict[str, str]:
    """Environment for a subprocess: this interpreter's, minus any TRIAGE_* leakage."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(
        {
            "TRIAGE_MODELS_DIR": str(models_dir),
            "TRIAGE_EMBEDDING_CACHE_DIR": str(embedding_cache_of(models_dir)),
            "TRIAGE_BLOCK_REMOTE_MODELS": "true",
            "TRIAGE_EMBEDDING_THREADS": "1",
            "PYTHONPATH": str(REPO_ROOT),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
        }
    )
    env.update(values)
    return env


def run_cli(args: list[str], env: dict[str, str], timeout: float = 300) -> str:
    proc = subprocess.run(
        [PYTHON, "-c", "from app.cli import main; main()", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.fixture(scope="session")
def kb_settings(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path, minilm: Any, api_corpus: Path
) -> Settings:
    """A data dir holding the ingested Grid sample (ingested once, in-process: the
    session's ``minilm`` fixture has already exported the model)."""
    data_dir = tmp_path_factory.mktemp("api-kb")
    settings = Settings(
        data_dir=data_dir,
        models_dir=models_dir,
        embedding_cache_dir=embedding_cache_of(models_dir),
        embedding_threads=2,
    )
    kb = build_knowledge_base(settings, refresh_seconds=0)
    report = kb.synchronizer().sync([api_corpus])
    assert report.docs_failed == 0
    assert report.docs_added > 0
    return settings


@pytest.fixture(scope="session")
def kb(kb_settings: Settings) -> KnowledgeBase:
    return build_knowledge_base(kb_settings, refresh_seconds=0)


@pytest.fixture(scope="session")
def pipeline(kb_settings: Settings, kb: KnowledgeBase) -> Pipeline:
    from app.services.pipelines import build_pipeline

    built = build_pipeline(kb_settings, kb)
    built.run("warm up the classifier")  # trains and caches it under models_dir once
    return built


# -- in-process apps --------------------------------------------------------------------


@dataclass
class Api:
    client: TestClient
    app: FastAPI
    admin: str
    agent: str
    integration: str

    def auth(self, role: str = "agent") -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}

    @property
    def sessions(self) -> Any:
        return self.app.state.services.runtime.sessions


def issue_tokens(sessions: Any) -> dict[str, str]:
    issued = {}
    with sessions.begin() as session:
        for role in ("admin", "agent", "integration"):
            plaintext, _ = api_tokens.create_token(session, role, f"{role}-1")
            issued[role] = plaintext
    return issued


MakeApi = Callable[..., Api]


@pytest.fixture
def make_api(
    kb_settings: Settings, kb: KnowledgeBase, pipeline: Pipeline, tmp_path: Path
) -> Iterator[MakeApi]:
    """``make_api(**settings)``: a started TestClient app on a fresh SQLite database."""
    clients: list[TestClient] = []

    def make(*, use_pipeline: Pipeline | None = None, **overrides: Any) -> Api:
        values: dict[str, Any] = {
            "data_dir": kb_settings.data_dir,
            "models_dir": kb_settings.models_dir,
            "database_url": f"sqlite:///{tmp_path / f'api-{len(clients)}.db'}",
            "worker_poll_seconds": 0.1,
        }
        values.update(overrides)
        settings = Settings(**values)
        app = create_app(settings, kb=kb, pipeline=use_pipeline or pipeline)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        issued = issue_tokens(app.state.services.runtime.sessions)
        return Api(client, app, issued["admin"], issued["agent"], issued["integration"])

    yield make
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def api(make_api: MakeApi) -> Api:
    return make_api()


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


# -- PostgreSQL ---------------------------------------------------------------------------


# -- real servers ---------------------------------------------------------------------------


class Server:
    """``uvicorn --factory app.api:create_app`` in a subprocess on a free loopback port."""

    def __init__(self, env: dict[str, str], log_path: Path, *, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log_path = log_path
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        args = [
            PYTHON, "-m", "uvicorn", "app.api:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log",
        ]  # fmt: skip
        if self.workers > 1:
            args += ["--workers", str(self.workers)]
        return args

    def start(self, timeout: float = 120.0) -> Server:
        args = self.command()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                args, env=self.env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()
        raise AssertionError(f"server did not start: {self.log_tail()}")

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing — a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Register servers here so they are stopped even when a test fails."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def create_token_in(database_url: str, role: str) -> str:
    """A token in that database (migrating it first, under the start-up lock)."""
    from app.services.database import prepare_database

    engine, factory = prepare_database(Settings(database_url=database_url))
    try:
        with factory.begin() as session:
            name = api_tokens.unused_name(session, f"{role}-test")  # names are unique
            plaintext, _ = api_tokens.create_token(session, role, name)  # type: ignore[arg-type]
    finally:
        engine.dispose()
    return plaintext


def seed_ticket(
    factory: Any,
    *,
    priority: str = "P3",
    category: str = "auth_api_access",
    team: str = "integrations",
    channel: str = "api",
    created_at: Any = None,
    message: str = "How do I rotate my sandbox client secret?",
) -> tuple[str, str]:
    """A ticket with one pending draft, straight through the store: (ticket_id, draft_id)."""
    from app.store import tickets as ticket_store

    with factory.begin() as session:
        ticket = ticket_store.create_ticket(
            session,
            channel=channel,
            reporter="dev@example.com",
            message=message,
            triage={
                "category": category,
                "confidence": 0.9,
                "priority": priority,
                "team": team,
                "language": "en",
                "sentiment": "neutral",
                "flags": [],
            },
            signals={"http_statuses": [], "error_codes": []},
            now=created_at,
        )
        draft = ticket_store.add_draft(
            session,
            ticket.id,
            text="Create a new secret under Settings > API keys, then update your client.",
            citations=[
                {
                    "chunk_id": "c1",
                    "doc_id": "docs/guides/api-reference/authentication",
                    "source": "docs/guides/api-reference/authentication.md",
                    "url": "https://docs.lightspark.com/grid/authentication",
                    "quote": "Rotate credentials regularly.",
                }
            ],
            confidence=0.8,
            needs_human=False,
            provenance={"drafter": "offline"},
            now=created_at,
        )
        return ticket.id, draft.id


PG_SERVER_SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@dataclass
class LiveServer:
    server: Server
    database_url: str


@pytest.fixture(scope="session")
def pg_server(
    tmp_path_factory: pytest.TempPathFactory,
    models_dir: Path,
    pg_databases: PostgresDatabases,
    pipeline: Pipeline,
) -> Iterator[LiveServer]:
    """One uvicorn server on a fresh PostgreSQL database, shared by the tests that only
    need "a real server on PostgreSQL" (each works on its own rows)."""
    workdir = tmp_path_factory.mktemp("pg-server")
    url = pg_databases.create()
    env = base_env(
        models_dir,
        TRIAGE_DATA_DIR=str(workdir / "data"),
        TRIAGE_DATABASE_URL=url,
        TRIAGE_DB_POOL_SIZE="25",
        TRIAGE_WORKER_POLL_SECONDS="0.2",
        TRIAGE_LOG_LEVEL="WARNING",
        TRIAGE_PUBLIC_ASK_RATE_PER_MINUTE="1000",
        TRIAGE_SLACK_SIGNING_SECRET=PG_SERVER_SLACK_SECRET,
        TRIAGE_SLACK_SUPPORT_CHANNELS="C0SUPPORT",
    )
    server = Server(env, workdir / "server.log")
    server.start()  # migrates the empty database at start-up
    try:
        yield LiveServer(server, url)
    finally:
        server.stop()
