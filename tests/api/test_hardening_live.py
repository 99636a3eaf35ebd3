"""Issue 14 against real servers: PostgreSQL refuses unstorable input with a 4xx, two API
processes turn one Slack message into one ticket, and `triage serve` does not let a
rotating X-Forwarded-For drain no bucket."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.store import create_engine_for, session_factory
from app.store.models import SlackEvent, Ticket
from tests.api.conftest import (
    PYTHON,
    LiveServer,
    PostgresDatabases,
    Server,
    base_env,
    create_token_in,
    wait_for,
)
from tests.fakes.slack_server import sign_request

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SUPPORT = "C0SUPPORT"


@pytest.mark.parametrize(
    "metadata",
    [b'{"a":' * d + b"1" + b"}" * d for d in (255, 990)] + [b"NaN", b"Infinity", b"1e400"],
    ids=["nested-255", "nested-990", "NaN", "Infinity", "1e400"],
)
def test_postgresql_refuses_unstorable_metadata_with_a_422(
    pg_server: LiveServer, metadata: bytes
) -> None:
    token = create_token_in(pg_server.database_url, "integration")
    body = b'{"message": "Why 401 on POST /quotes?", "metadata": {"x": ' + metadata + b"}}"
    response = httpx.post(
        f"{pg_server.server.url}/v1/tickets",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def slack_event(event_id: str, text: str, *, channel: str = SUPPORT, ts: str) -> bytes:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0TEAM",
            "event_id": event_id,
            "event": {
                "type": "message",
                "channel": channel,
                "user": "U0DEV",
                "text": text,
                "ts": ts,
            },
        }
    ).encode()


def post_event(server: Server, body: bytes, **headers: str) -> httpx.Response:
    signed = sign_request(SIGNING_SECRET, body)
    return httpx.post(
        f"{server.url}/v1/slack/events", content=body, headers={**signed, **headers}, timeout=60
    )


def test_two_processes_make_one_ticket_of_one_slack_message(
    tmp_path: Path,
    models_dir: Path,
    pg_databases: PostgresDatabases,
    servers: list[Server],
    pipeline: object,
) -> None:
    url = pg_databases.create()
    shared = {
        "TRIAGE_DATABASE_URL": url,
        "TRIAGE_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "TRIAGE_SLACK_SUPPORT_CHANNELS": SUPPORT,
        "TRIAGE_RUN_WORKERS": "false",
        "TRIAGE_LOG_LEVEL": "WARNING",
    }
    a, b = (
        Server(
            base_env(models_dir, TRIAGE_DATA_DIR=str(tmp_path / n), **shared), tmp_path / f"{n}.log"
        )
        for n in ("a", "b")
    )
    servers += [a, b]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda s: s.start(), [a, b]))

    # Slack delivers the same event to both processes at once (a retry racing the first
    # delivery behind a load balancer), then retries both again.
    body = slack_event("EvTwice", "How do I rotate my sandbox keys?", ts="1712345678.000100")
    barrier = threading.Barrier(2)

    def deliver(server: Server) -> str:
        barrier.wait()
        return str(post_event(server, body).json()["status"])

    with ThreadPoolExecutor(2) as pool:
        first = sorted(pool.map(deliver, [a, b]))
    engine = create_engine_for(url)
    factory = session_factory(engine)

    def counts() -> tuple[int, int]:
        with factory() as session:
            tickets = session.scalar(select(func.count()).select_from(Ticket))
            events = session.scalar(select(func.count()).select_from(SlackEvent))
            return int(tickets or 0), int(events or 0)

    try:
        assert set(first) <= {"created", "accepted", "duplicate"}, first
        wait_for(lambda: counts() == (1, 1), timeout=60)
        retries = [
            post_event(s, body, **{"X-Slack-Retry-Num": "1"}).json()["status"] for s in (a, b)
        ]
        assert retries == ["duplicate", "duplicate"]
        assert first.count("duplicate") <= 1, first
        time.sleep(2.0)  # a creation still running after its ack would have landed by now
        assert counts() == (1, 1)

        # PostgreSQL's own limits are not a reason to lose (or endlessly retry) a question.
        nul = post_event(a, slack_event("EvNul", "why\u0000 401?", ts="1712345678.000200"))
        assert nul.status_code == 200
        overflow = post_event(
            b, slack_event("EvWide", "hello", channel="C" * 300, ts="1712345678.000300")
        )
        assert (overflow.status_code, overflow.json()["status"]) == (200, "rejected")
        wait_for(lambda: counts() == (2, 2), timeout=60)
        with factory() as session:
            messages = set(session.scalars(select(Ticket.message)))
        assert "why 401?" in messages
    finally:
        engine.dispose()


class ServeProcess(Server):
    """`triage serve` itself, so its uvicorn options are what is tested."""

    def command(self) -> list[str]:
        cli = "from app.cli import main; main()"
        return [PYTHON, "-c", cli, "serve", "--host", "127.0.0.1", "--port", str(self.port)]


def test_a_rotating_x_forwarded_for_does_not_bypass_the_ask_rate_limit(
    tmp_path: Path, models_dir: Path, servers: list[Server], pipeline: object
) -> None:
    env = base_env(
        models_dir,
        TRIAGE_DATA_DIR=str(tmp_path / "data"),
        TRIAGE_PUBLIC_ASK_RATE_PER_MINUTE="2",
        TRIAGE_RUN_WORKERS="false",
        TRIAGE_LOG_LEVEL="WARNING",
        # uvicorn's own variable must not widen what the setting allows.
        FORWARDED_ALLOW_IPS="*",
    )
    server = ServeProcess(env, tmp_path / "serve.log")
    servers.append(server)
    server.start()

    def ask(forwarded_for: str) -> int:
        return httpx.post(
            f"{server.url}/v1/ask",
            json={"question": "How do I test payouts in the sandbox?"},
            headers={"X-Forwarded-For": forwarded_for},
            timeout=60,
        ).status_code

    statuses: list[Any] = [ask(f"203.0.113.{i}") for i in range(1, 6)]
    assert statuses[:2] == [200, 200]
    assert statuses[2:] == [429, 429, 429]
