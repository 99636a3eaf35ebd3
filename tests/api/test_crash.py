"""Crashes lose nothing and send once.

Two crashes, one restart: a server killed with SIGKILL right after an approval (the
reply is committed in the outbox, not yet delivered), and an outbox worker that died
between claiming a reply and marking it sent.  The restarted process delivers both,
each exactly once as far as the store's state machine is concerned.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.store import create_engine_for, outbox, reviews, session_factory
from app.store.models import AuditLog, OutboxMessage
from tests.api.conftest import Server, base_env, create_token_in, seed_ticket, wait_for

pytestmark = pytest.mark.slow


def _outbox(sessions: sessionmaker[Session]) -> dict[str, tuple[str, int, str | None]]:
    with sessions() as session:
        return {
            m.draft_id: (m.status, m.attempts, m.claimed_by)
            for m in session.scalars(select(OutboxMessage))
        }


def _sends(sessions: sessionmaker[Session], ticket_id: str) -> int:
    with sessions() as session:
        count = session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "reply_sent", AuditLog.ticket_id == ticket_id)
        )
        return int(count or 0)


def test_killed_processes_lose_nothing_and_replies_go_out_once(
    tmp_path: Path, models_dir: Path, servers: list[Server], pipeline: object
) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    env = base_env(
        models_dir,
        TRIAGE_DATA_DIR=str(tmp_path / "data"),
        TRIAGE_DATABASE_URL=url,
        TRIAGE_WORKER_POLL_SECONDS="0.2",
        TRIAGE_OUTBOX_STALE_AFTER_SECONDS="1",
        TRIAGE_LOG_LEVEL="WARNING",
    )
    # An API-only process: it approves, but nothing in it would deliver.
    api_only = Server({**env, "TRIAGE_RUN_WORKERS": "false"}, tmp_path / "a.log")
    servers.append(api_only)
    api_only.start()
    agent = {"Authorization": f"Bearer {create_token_in(url, 'agent')}"}
    engine = create_engine_for(url)
    sessions = session_factory(engine)
    # A reply claimed by an outbox worker that then died before marking it: it may or
    # may not have reached the transport.
    other_ticket, other_draft = seed_ticket(sessions)
    with sessions.begin() as session:
        reviews.approve(session, other_draft, reviewer="agent-1")
    with sessions.begin() as session:
        [claimed] = outbox.claim_batch(session, "dead-worker")
    assert claimed.draft_id == other_draft

    ticket_id, draft_id = seed_ticket(sessions)
    body = {"text": "Create a new secret under Settings > API keys."}
    key = {"Idempotency-Key": "crash-1"}
    approved = httpx.post(
        f"{api_only.url}/v1/drafts/{draft_id}/approve", json=body, headers={**agent, **key}
    )
    assert approved.status_code == 200
    api_only.kill()

    assert _outbox(sessions) == {
        draft_id: ("pending", 0, None),
        other_draft: ("sending", 1, "dead-worker"),
    }

    restarted = Server(env, tmp_path / "b.log")
    servers.append(restarted)
    restarted.start()
    with httpx.Client(base_url=restarted.url, headers=agent, timeout=30) as client:

        def both_sent() -> bool:
            return all(
                client.get(f"/v1/tickets/{t}").json()["status"] == "sent"
                for t in (ticket_id, other_ticket)
            )

        wait_for(both_sent, timeout=30)
        # The approval's idempotency record survived the crash with it.
        replay = client.post(f"/v1/drafts/{draft_id}/approve", json=body, headers=key)
        assert (replay.status_code, replay.content) == (200, approved.content)
        # Its outbox loop keeps polling: give it a few rounds to (wrongly) send again.
        time.sleep(1.5)
    state = _outbox(sessions)
    assert state[draft_id][:2] == ("sent", 1)
    assert state[other_draft][:2] == ("sent", 2), "re-sent once after the stale claim"
    assert state[other_draft][2] != "dead-worker"
    assert _sends(sessions, ticket_id) == 1
    assert _sends(sessions, other_ticket) == 1
    engine.dispose()
