"""50 agents approving one draft at once, over HTTP, on PostgreSQL: exactly one wins."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from app.store import create_engine_for, session_factory
from app.store.models import AuditLog, OutboxMessage
from tests.api.conftest import LiveServer, create_token_in, seed_ticket, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

APPROVERS = 50


def test_fifty_parallel_approvals_of_one_draft(pg_server: LiveServer) -> None:
    server, url = pg_server.server, pg_server.database_url
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
        messages = session.scalars(
            select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id)
        ).all()
        assert len(messages) == 1
        assert (messages[0].status, messages[0].attempts) == ("sent", 1)
        assert messages[0].payload["text"] == f"Reply edited by approver {winner_index}."
        sends = session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "reply_sent", AuditLog.ticket_id == ticket_id)
        )
        assert sends == 1
    engine.dispose()
