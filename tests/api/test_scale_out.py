"""Scale-out: two API processes, one PostgreSQL database, one `chroma run` server.

Tickets created through one process are reviewed through the other; approvals of one
draft racing across both processes still produce exactly one approval and one send.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.knowledge import build_knowledge_base
from app.settings import Settings
from app.store import create_engine_for, session_factory
from app.store.models import AuditLog, OutboxMessage
from tests.api.conftest import (
    AUTH_QUESTION,
    SANDBOX_QUESTION,
    PostgresDatabases,
    Server,
    base_env,
    create_token_in,
    wait_for,
)
from tests.conftest import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chroma CLI ships with chromadb"
    port = free_port()
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(tmp_path / "chroma"), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _heartbeat(url), timeout=60, step=0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _heartbeat(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_two_processes_share_one_database_and_one_chroma(
    tmp_path: Path, models_dir: Path, api_corpus: Path, chroma_server: str,
    pg_databases: PostgresDatabases, servers: list[Server], pipeline: object,
) -> None:  # fmt: skip
    url = pg_databases.create()
    shared = {
        "TRIAGE_DATABASE_URL": url,
        "TRIAGE_CHROMA_URL": chroma_server,
        "TRIAGE_WORKER_POLL_SECONDS": "0.2",
        "TRIAGE_LOG_LEVEL": "WARNING",
    }
    loader = build_knowledge_base(
        Settings(chroma_url=chroma_server, models_dir=models_dir, data_dir=tmp_path / "ingest"),
        refresh_seconds=0,
    )
    assert loader.synchronizer().sync([api_corpus]).docs_added > 0

    a = Server(
        base_env(models_dir, TRIAGE_DATA_DIR=str(tmp_path / "a"), **shared), tmp_path / "a.log"
    )
    b = Server(
        base_env(models_dir, TRIAGE_DATA_DIR=str(tmp_path / "b"), **shared), tmp_path / "b.log"
    )
    servers += [a, b]
    # Both start (and migrate the empty database) at the same time.
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda s: s.start(), [a, b]))

    integration = {"Authorization": f"Bearer {create_token_in(url, 'integration')}"}
    agent = {"Authorization": f"Bearer {create_token_in(url, 'agent')}"}
    with (
        httpx.Client(base_url=a.url, timeout=60) as via_a,
        httpx.Client(base_url=b.url, timeout=60) as via_b,
    ):
        created = []
        for question in (AUTH_QUESTION, SANDBOX_QUESTION):
            response = via_a.post("/v1/tickets", json={"message": question}, headers=integration)
            assert response.status_code == 201, response.text
            created.append(response.json())
        first, second = created
        assert first["draft"]["citations"], "drafted from the docs held by the Chroma server"

        queue = via_b.get("/v1/review/queue", headers=agent).json()
        assert {t["id"] for t in queue["items"]} == {first["id"], second["id"]}
        hits = via_b.get("/v1/search", params={"q": "client secret"}, headers=agent).json()
        assert hits

        approved = via_b.post(
            f"/v1/drafts/{first['draft']['id']}/approve",
            json={"text": "Use HTTP Basic auth with your client id and secret."},
            headers={**agent, "Idempotency-Key": "first"},
        )
        assert approved.status_code == 200, approved.text

        barrier = threading.Barrier(10)
        draft_id = second["draft"]["id"]

        def race(i: int) -> int:
            client = via_a if i % 2 else via_b
            barrier.wait()
            return client.post(
                f"/v1/drafts/{draft_id}/approve",
                json={},
                headers={**agent, "Idempotency-Key": f"race-{i}"},
            ).status_code

        with ThreadPoolExecutor(10) as pool:
            statuses = sorted(pool.map(race, range(10)))
        assert statuses == [200] + [409] * 9

        def all_sent() -> bool:
            return all(
                via_a.get(f"/v1/tickets/{t['id']}", headers=agent).json()["status"] == "sent"
                for t in created
            )

        wait_for(all_sent, timeout=30)
    time.sleep(1.0)  # both outbox loops have polled again: nothing more may be sent
    engine = create_engine_for(url)
    with session_factory(engine)() as session:
        messages = session.scalars(select(OutboxMessage)).all()
        assert len(messages) == 2
        assert all((m.status, m.attempts) == ("sent", 1) for m in messages)
        sends = session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "reply_sent")
        )
        assert sends == 2
    engine.dispose()
