"""Slack → ticket → agent approval → reply in the Slack thread, on the real service."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr

from app.slack.sender import SlackThread
from tests.app.slack.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.fakes.slack_server import FakeSlack, sign_request
from tests.web.conftest import StartApp

T = TypeVar("T")
CHANNEL = "C0SUPPORT"
TS = "1712345678.000200"


def eventually(probe: Callable[[], T | None], timeout: float = 120.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


def event(event_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "event_callback",
        "team_id": "T0TEAM",
        "event_id": event_id,
        "event": {
            "type": "app_mention",
            "channel": CHANNEL,
            "user": "U0DEV",
            "text": text,
            "ts": TS,
        },
    }


def post_event(url: str, payload: dict[str, Any], **headers: str) -> httpx.Response:
    body = json.dumps(payload).encode()
    signed = sign_request(SIGNING_SECRET, body)
    return httpx.post(
        url + "/v1/slack/events", content=body, headers={**signed, **headers}, timeout=30
    )


def test_a_slack_question_is_answered_in_its_thread(
    start_app: StartApp, fake_slack: FakeSlack
) -> None:
    app = start_app(
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_api_url=fake_slack.api_url,
        slack_support_channels=[CHANNEL],
    )
    question = (
        "<@U0BOT> how do we authenticate API requests? "
        "Do we send the client id and secret with basic auth?"
    )

    unsigned = httpx.post(
        app.url + "/v1/slack/events", content=json.dumps(event("Ev0", question)), timeout=30
    )
    assert unsigned.status_code == 401
    assert unsigned.headers["content-type"].startswith("application/problem+json")

    first = post_event(app.url, event("Ev1", question))
    retry = post_event(app.url, event("Ev1", question), **{"X-Slack-Retry-Num": "1"})
    assert first.status_code == 200, first.text
    assert retry.json()["status"] == "duplicate"

    with app.api() as api:

        def slack_ticket() -> dict[str, Any] | None:
            items = api.get("/v1/review/queue").json()["items"]
            return next((t for t in items if t["channel"] == "slack"), None)

        ticket = eventually(slack_ticket)
        assert ticket["reporter"] == "U0DEV"
        assert ticket["message"].startswith("how do we authenticate")
        assert SlackThread.from_ref(ticket["external_ref"]) == SlackThread(CHANNEL, TS)
        assert len(api.get("/v1/review/queue").json()["items"]) == 1

        approved = api.post(
            f"/v1/drafts/{ticket['draft']['id']}/approve",
            json={"text": "Use HTTP Basic auth with your client id and secret."},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert approved.status_code == 200, approved.text

        post = eventually(lambda: next(iter(fake_slack.posts()), None))
        assert post["channel"] == CHANNEL
        assert post["thread_ts"] == TS
        assert post["text"].startswith("Use HTTP Basic auth with your client id and secret.")
        eventually(lambda: api.get(f"/v1/tickets/{ticket['id']}").json()["status"] == "sent")
    assert len(fake_slack.posts()) == 1
