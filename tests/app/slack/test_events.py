"""``POST /v1/slack/events`` (the route and the receiver behind it): signatures,
challenges, dedupe, ticket creation and the acknowledgement."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.api.deps import get_slack_receiver
from app.api.routes import slack
from app.settings import Settings
from app.slack.events import SlackMessage
from app.slack.intake import Claim, SlackInbox
from app.slack.receiver import SlackReceiver
from app.slack.sender import SlackThread
from app.store import tickets
from app.store.errors import InvalidInputError
from app.store.models import Ticket
from tests.app.slack.conftest import SIGNING_SECRET
from tests.fakes.slack_server import sign_request

URL = "/v1/slack/events"


SUPPORT = "C0SUPPORT"
Writer = Callable[[SlackMessage, Claim], str]


def store_writer(sessions: sessionmaker[Session]) -> Writer:
    """What the ticket service does for Slack, minus triage: enough to see a ticket."""

    def write(message: SlackMessage, claim: Claim) -> str:
        with sessions.begin() as session:
            ticket = tickets.create_ticket(
                session,
                channel="slack",
                reporter=message.user,
                message=message.text,
                metadata=message.metadata,
                external_ref=message.external_ref,
            )
            claim(session, ticket.id)
            return ticket.id

    return write


def make_client(
    sessions: sessionmaker[Session],
    writer: Writer | None = None,
    *,
    secret: str | None = SIGNING_SECRET,
    ack_budget: float = 1.5,
) -> TestClient:
    app = FastAPI()
    app.include_router(slack.router)
    settings = Settings(slack_signing_secret=SecretStr(secret) if secret else None)
    inbox = SlackInbox(sessions, writer or store_writer(sessions), support_channels=[SUPPORT])
    receiver = SlackReceiver.configured(settings, inbox, ack_budget=ack_budget)
    app.dependency_overrides[get_slack_receiver] = lambda: receiver
    return TestClient(app)


@pytest.fixture
def client(sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    with make_client(sessions) as c:
        yield c


def message_event(
    *,
    event_id: str = "Ev0001",
    text: str = "Our webhook returns 401 on /v1/quotes",
    ts: str = "1712345678.000200",
    **event: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "token": "legacy-verification-token",
        "team_id": "T0TEAM",
        "api_app_id": "A0APP",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1712345678,
        "event": {
            "type": "message",
            "channel": "C0SUPPORT",
            "channel_type": "channel",
            "user": "U0DEV",
            "text": text,
            "ts": ts,
            **event,
        },
    }
    return body


def post_signed(
    client: TestClient,
    payload: dict[str, Any],
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    body = json.dumps(payload).encode()
    signed = sign_request(secret, body, timestamp)
    return client.post(URL, content=body, headers={**signed, **(headers or {})})


def slack_tickets(sessions: sessionmaker[Session]) -> list[Ticket]:
    with sessions() as session:
        return list(session.scalars(select(Ticket).where(Ticket.channel == "slack")))


# --- signatures ------------------------------------------------------------------------


def test_url_verification_answers_the_challenge(client: TestClient) -> None:
    payload = {
        "token": "x",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        "type": "url_verification",
    }
    response = post_signed(client, payload)
    assert response.status_code == 200
    assert response.json() == {"challenge": payload["challenge"]}


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda h: {**h, "X-Slack-Signature": "v0=" + "0" * 64}, id="bad-signature"),
        pytest.param(
            lambda h: {k: v for k, v in h.items() if k != "X-Slack-Signature"}, id="no-signature"
        ),
        pytest.param(
            lambda h: {k: v for k, v in h.items() if k != "X-Slack-Request-Timestamp"},
            id="no-timestamp",
        ),
        pytest.param(lambda h: {**h, "X-Slack-Request-Timestamp": "soon"}, id="junk-timestamp"),
    ],
)
def test_bad_signatures_are_refused(
    client: TestClient,
    sessions: sessionmaker[Session],
    tamper: Callable[[dict[str, str]], dict[str, str]],
) -> None:
    body = json.dumps(message_event()).encode()
    response = client.post(URL, content=body, headers=tamper(sign_request(SIGNING_SECRET, body)))
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 401
    assert "signature" in response.json()["detail"]
    assert slack_tickets(sessions) == []


def test_a_body_signed_with_another_secret_is_refused(client: TestClient) -> None:
    assert post_signed(client, message_event(), secret="someone-else").status_code == 401


def test_a_tampered_body_is_refused(client: TestClient) -> None:
    body = json.dumps(message_event()).encode()
    headers = sign_request(SIGNING_SECRET, body)
    forged = body.replace(b"U0DEV", b"U0EVE")
    assert client.post(URL, content=forged, headers=headers).status_code == 401


def test_a_stale_timestamp_is_refused_even_when_correctly_signed(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    six_minutes_ago = int(time.time()) - 6 * 60
    response = post_signed(client, message_event(), timestamp=six_minutes_ago)
    assert response.status_code == 401
    assert slack_tickets(sessions) == []
    # Just inside the 5-minute window is still fine.
    assert post_signed(client, message_event(), timestamp=int(time.time()) - 240).status_code == 200


def test_without_a_signing_secret_the_endpoint_is_unavailable(
    sessions: sessionmaker[Session],
) -> None:
    with make_client(sessions, secret=None) as client:
        response = post_signed(client, message_event())
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "SIGNING_SECRET" in response.json()["detail"]


def test_an_app_that_never_installed_slack_is_unavailable() -> None:
    app = FastAPI()
    app.include_router(slack.router)
    with TestClient(app) as client:
        assert post_signed(client, message_event()).status_code == 503


# --- events → tickets ------------------------------------------------------------------


def test_a_signed_message_becomes_a_slack_ticket(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    response = post_signed(
        client,
        message_event(
            text="Webhook returns 401 &lt;html&gt; for <https://api.example.com/v1/quotes|quotes>"
        ),
    )

    assert response.status_code == 200
    [ticket] = slack_tickets(sessions)
    assert ticket.channel == "slack"
    assert ticket.reporter == "U0DEV"
    assert ticket.message == "Webhook returns 401 <html> for https://api.example.com/v1/quotes"
    assert SlackThread.from_ref(ticket.external_ref) == SlackThread(
        "C0SUPPORT", "1712345678.000200"
    )
    assert ticket.meta["slack"]["event_id"] == "Ev0001"


def test_a_thread_reply_is_answered_in_its_thread(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    post_signed(client, message_event(ts="1712345999.000100", thread_ts="1712345678.000200"))
    [ticket] = slack_tickets(sessions)
    assert SlackThread.from_ref(ticket.external_ref).thread_ts == "1712345678.000200"


def test_slack_retries_are_deduplicated(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    first = post_signed(client, message_event())
    retry = post_signed(
        client,
        message_event(),
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )

    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.json()["status"] == "duplicate"
    assert len(slack_tickets(sessions)) == 1


def test_a_mention_and_its_message_event_make_one_ticket(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    post_signed(client, message_event(event_id="Ev1", text="<@U0BOT> how do I rotate keys?"))
    mention = message_event(event_id="Ev2", text="<@U0BOT> how do I rotate keys?")
    mention["event"]["type"] = "app_mention"
    post_signed(client, mention)

    [ticket] = slack_tickets(sessions)
    assert ticket.message == "@U0BOT how do I rotate keys?"


def test_an_app_mention_drops_the_leading_bot_mention(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    mention = message_event(text="<@U0BOT> how do I rotate keys for <@U0OTHER>?")
    mention["event"]["type"] = "app_mention"
    assert post_signed(client, mention).json()["status"] == "created"
    [ticket] = slack_tickets(sessions)
    assert ticket.message == "how do I rotate keys for @U0OTHER?"


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({"subtype": "bot_message", "bot_id": "B0BOT"}, id="bot-message"),
        pytest.param({"bot_id": "B0TRIAGE", "app_id": "A0APP"}, id="bot-without-subtype"),
        pytest.param({"subtype": "message_changed"}, id="edit"),
        pytest.param({"subtype": "message_deleted"}, id="delete"),
        pytest.param({"subtype": "channel_join"}, id="join"),
        pytest.param({"user": None}, id="no-user"),
        pytest.param({"text": "   "}, id="blank"),
        pytest.param({"type": "reaction_added"}, id="other-event"),
    ],
)
def test_non_user_messages_are_ignored(
    client: TestClient, sessions: sessionmaker[Session], event: dict[str, Any]
) -> None:
    payload = message_event()
    payload["event"].update(event)
    payload["event"] = {k: v for k, v in payload["event"].items() if v is not None}

    response = post_signed(client, payload)

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert slack_tickets(sessions) == []


def test_a_non_json_body_is_a_bad_request(client: TestClient) -> None:
    body = b"payload=not-json"
    assert (
        client.post(URL, content=body, headers=sign_request(SIGNING_SECRET, body)).status_code
        == 400
    )


def test_a_failed_creation_is_retried_by_slack(sessions: sessionmaker[Session]) -> None:
    calls = 0
    real = store_writer(sessions)

    def flaky(message: SlackMessage, claim: Claim) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database is down")
        return real(message, claim)

    with make_client(sessions, flaky) as client:
        first = post_signed(client, message_event())
        retry = post_signed(client, message_event(), headers={"X-Slack-Retry-Num": "1"})

    assert first.status_code == 503
    assert first.headers["content-type"].startswith("application/problem+json")
    assert retry.status_code == 200
    assert len(slack_tickets(sessions)) == 1


def test_slow_ticket_creation_is_acknowledged_in_time(sessions: sessionmaker[Session]) -> None:
    release = threading.Event()
    real = store_writer(sessions)

    def slow(message: SlackMessage, claim: Claim) -> str:
        release.wait(10)
        return real(message, claim)

    with make_client(sessions, slow, ack_budget=0.2) as client:
        response = post_signed(client, message_event())
        assert response.status_code == 200
        assert response.json()["status"] == "accepted"
        # Still blocked: the acknowledgement did not wait for the ticket.
        assert slack_tickets(sessions) == []
        release.set()
        deadline = time.monotonic() + 5
        while not slack_tickets(sessions) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(slack_tickets(sessions)) == 1


def test_a_message_the_service_refuses_is_not_retried_forever(
    sessions: sessionmaker[Session],
) -> None:
    def refuse(message: SlackMessage, claim: Claim) -> str:
        raise InvalidInputError("the message is blank after redaction")

    with make_client(sessions, refuse) as client:
        first = post_signed(client, message_event())
        retry = post_signed(client, message_event(), headers={"X-Slack-Retry-Num": "1"})
    assert first.status_code == 200
    assert first.json()["status"] == "rejected"
    assert retry.json()["status"] == "duplicate"
