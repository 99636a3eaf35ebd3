"""50 agents approving one draft at once, over HTTP, on PostgreSQL: exactly one wins."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.store import create_engine_for, session_factory
from app.store.models import AuditLog, OutboxMessage
from tests.api.conftest import (
    PostgresDatabases,
    Server,
    base_env,
    create_token_in,
    seed_ticket,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

APPROVERS = 50


def test_fifty_parallel_approvals_of_one_draft(
    tmp_path: Path, models_dir: Path, pg_databases: PostgresDatabases, servers: list[Server],
    pipeline: object,
) -> None:  # fmt: skip
    url = pg_databases.create()
    env = base_env(
        models_dir,
        TRIAGE_DATA_DIR=str(tmp_path / "data"),
        TRIAGE_DATABASE_URL=url,
        TRIAGE_DB_POOL_SIZE="25",
        TRIAGE_WORKER_POLL_SECONDS="0.2",
        TRIAGE_LOG_LEVEL="WARNING",
    )
    server = Server(env, tmp_path / "server.log")
    servers.append(server)
    server.start()  # migrates the empty database at start-up
    token = create_token_in(url, "agent")
    engine = create_engine_for(url)
    factory = session_factory(engine)
    ticket_id, draft_id = seed_ticket(factory)

    barrier = threading.Barrier(APPROVERS)
    headers = {"Authorization": f"Bearer {token}"}

    def approve(i: int) -> httpx.Response:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            barrier.wait()
            return client.post(
                f"/v1/drafts/{draft_id}/approve",
                json={"text": f"Reply edited by approver {i}."},
                headers={**headers, "Idempotency-Key": f"approver-{i}"},
            )

    with ThreadPoolExecutor(APPROVERS) as pool:
        responses = list(pool.map(approve, range(APPROVERS)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * (APPROVERS - 1), statuses
    winner_index = next(i for i, r in enumerate(responses) if r.status_code == 200)
    winner = responses[winner_index]
    assert all(
        r.headers["content-type"] == "application/problem+json"
        for r in responses
        if r.status_code == 409
    )

    with httpx.Client(base_url=server.url, timeout=30, headers=headers) as client:
        replay = client.post(
            f"/v1/drafts/{draft_id}/approve",
            json={"text": f"Reply edited by approver {winner_index}."},
            headers={"Idempotency-Key": f"approver-{winner_index}"},
        )
        assert replay.status_code == 200
        assert replay.content == winner.content
        loser_index = (winner_index + 1) % APPROVERS
        loser_replay = client.post(
            f"/v1/drafts/{draft_id}/approve",
            json={"text": f"Reply edited by approver {loser_index}."},
            headers={"Idempotency-Key": f"approver-{loser_index}"},
        )
        assert (loser_replay.status_code, loser_replay.content) == (
            409,
            responses[loser_index].content,
        )

        def sent() -> bool:
            return bool(client.get(f"/v1/tickets/{ticket_id}").json()["status"] == "sent")

        wait_for(sent, timeout=30)

    with factory() as session:
        messages = session.scalars(select(OutboxMessage)).all()
        assert len(messages) == 1
        assert (messages[0].status, messages[0].attempts) == ("sent", 1)
        assert messages[0].payload["text"] == f"Reply edited by approver {winner_index}."
        sends = session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "reply_sent")
        )
        assert sends == 1
    engine.dispose()
