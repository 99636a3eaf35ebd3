"""A server killed with SIGKILL between approval and delivery loses nothing and the reply
is sent exactly once after a restart."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.store import create_engine_for, outbox, session_factory
from app.store.models import AuditLog, OutboxMessage, Ticket
from tests.api.conftest import Server, base_env, create_token_in, seed_ticket, wait_for

pytestmark = pytest.mark.slow


def _sends(factory: object) -> tuple[list[OutboxMessage], int]:
    with factory() as session:  # type: ignore[operator]
        messages = list(session.scalars(select(OutboxMessage)))
        count = session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "reply_sent")
        )
        return messages, int(count or 0)


def test_kill_after_approval_then_restart_sends_once(
    tmp_path: Path, models_dir: Path, servers: list[Server], pipeline: object
) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    env = base_env(
        models_dir,
        TRIAGE_DATA_DIR=str(tmp_path / "data"),
        TRIAGE_DATABASE_URL=url,
        TRIAGE_WORKER_POLL_SECONDS="0.2",
        TRIAGE_LOG_LEVEL="WARNING",
    )
    # An API-only process: it approves, but nothing in it would deliver.
    api_only = Server({**env, "TRIAGE_RUN_WORKERS": "false"}, tmp_path / "a.log")
    servers.append(api_only)
    api_only.start()
    agent = {"Authorization": f"Bearer {create_token_in(url, 'agent')}"}
    engine = create_engine_for(url)
    factory = session_factory(engine)
    ticket_id, draft_id = seed_ticket(factory)
    body = {"text": "Create a new secret under Settings > API keys."}
    key = {"Idempotency-Key": "crash-1"}
    approved = httpx.post(
        f"{api_only.url}/v1/drafts/{draft_id}/approve", json=body, headers={**agent, **key}
    )
    assert approved.status_code == 200
    api_only.kill()

    messages, sends = _sends(factory)
    assert [(m.status, m.attempts) for m in messages] == [("pending", 0)]
    assert sends == 0

    restarted = Server(env, tmp_path / "b.log")
    servers.append(restarted)
    restarted.start()
    with httpx.Client(base_url=restarted.url, headers=agent, timeout=30) as client:
        wait_for(lambda: client.get(f"/v1/tickets/{ticket_id}").json()["status"] == "sent")
        # The approval's idempotency record survived the crash with it.
        replay = client.post(f"/v1/drafts/{draft_id}/approve", json=body, headers=key)
        assert (replay.status_code, replay.content) == (200, approved.content)
        # Its outbox loop keeps polling: give it a few rounds to (wrongly) send again.
        time.sleep(1.0)
    messages, sends = _sends(factory)
    assert [(m.status, m.attempts) for m in messages] == [("sent", 1)]
    assert sends == 1
    engine.dispose()


def test_a_claim_abandoned_mid_send_is_delivered_by_the_next_process(
    tmp_path: Path, models_dir: Path, servers: list[Server], pipeline: object
) -> None:
    url = f"sqlite:///{tmp_path / 'claim.db'}"
    env = base_env(
        models_dir,
        TRIAGE_DATA_DIR=str(tmp_path / "data"),
        TRIAGE_DATABASE_URL=url,
        TRIAGE_WORKER_POLL_SECONDS="0.2",
        TRIAGE_OUTBOX_STALE_AFTER_SECONDS="1",
        TRIAGE_LOG_LEVEL="WARNING",
    )
    create_token_in(url, "agent")
    engine = create_engine_for(url)
    factory = session_factory(engine)
    ticket_id, draft_id = seed_ticket(factory)
    from app.store import reviews

    with factory.begin() as session:
        reviews.approve(session, draft_id, reviewer="agent-1")
    # A worker claims the message and dies before marking it (it may or may not have sent).
    with factory.begin() as session:
        [claimed] = outbox.claim_batch(session, "dead-worker")
    server = Server(env, tmp_path / "s.log")
    servers.append(server)
    server.start()

    def sent() -> bool:
        with factory() as session:
            return session.get(Ticket, ticket_id).status == "sent"  # type: ignore[union-attr]

    wait_for(sent, timeout=30)
    messages, sends = _sends(factory)
    assert [(m.id, m.status, m.attempts) for m in messages] == [(claimed.id, "sent", 2)]
    assert messages[0].claimed_by != "dead-worker"
    assert sends == 1, "the state machine records one send, whatever the transport saw"
    engine.dispose()
