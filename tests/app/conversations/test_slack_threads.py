"""A reply in a Slack thread joins the thread's ticket and is answered in that thread."""

from __future__ import annotations

import json
import uuid
from typing import Any

from pydantic import SecretStr

from tests.api.conftest import Api, MakeApi, wait_for
from tests.app.slack.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.fakes.slack_server import FakeSlack, sign_request

CHANNEL = "C0SUPPORT"
TS = "1712345678.000200"
REPLY_TS = "1712345999.000300"


def message_event(
    event_id: str, text: str, ts: str, thread_ts: str | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "message",
        "channel": CHANNEL,
        "user": "U0DEV",
        "text": text,
        "ts": ts,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return {"type": "event_callback", "team_id": "T0TEAM", "event_id": event_id, "event": event}


def deliver(api: Api, payload: dict[str, Any]) -> str:
    body = json.dumps(payload).encode()
    response = api.client.post(
        "/v1/slack/events", content=body, headers=sign_request(SIGNING_SECRET, body)
    )
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


def approve(api: Api, draft_id: str) -> None:
    response = api.client.post(
        f"/v1/drafts/{draft_id}/approve",
        json={},
        headers=api.auth() | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 200, response.text


def test_a_thread_reply_follows_up_on_its_ticket(make_api: MakeApi, fake_slack: FakeSlack) -> None:
    api = make_api(
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_api_url=fake_slack.api_url,
        slack_support_channels=[CHANNEL],
    )
    question = "How do I verify the signature of the webhooks you send us?"
    deliver(api, message_event("Ev1", question, TS))

    def slack_tickets() -> list[dict[str, Any]]:
        items = api.client.get(
            "/v1/review/queue", params={"status": "pending_review"}, headers=api.auth()
        ).json()["items"]
        return [t for t in items if t["channel"] == "slack"]

    ticket = wait_for(slack_tickets)[0]
    approve(api, ticket["draft"]["id"])
    wait_for(lambda: len(fake_slack.posts()) == 1)

    deliver(api, message_event("Ev2", "and in Python?", REPLY_TS, thread_ts=TS))
    # Slack's retry, and the same post arriving again under another event id.
    assert deliver(api, message_event("Ev2", "and in Python?", REPLY_TS, thread_ts=TS)) in {
        "duplicate",
        "created",
    }
    deliver(api, message_event("Ev3", "and in Python?", REPLY_TS, thread_ts=TS))

    def detail() -> dict[str, Any]:
        body: dict[str, Any] = api.client.get(
            f"/v1/tickets/{ticket['id']}", headers=api.auth()
        ).json()
        return body

    wait_for(lambda: detail()["status"] == "pending_review")
    conversation = detail()
    customer = [m["text"] for m in conversation["messages"] if m["author"] == "customer"]
    assert customer == [question, "and in Python?"]
    assert len(slack_tickets()) == 1  # no new, history-less ticket
    redraft = conversation["draft"]
    assert redraft["version"] == 2
    assert redraft["reason"] != "insufficient_documentation"

    approve(api, redraft["id"])
    wait_for(lambda: len(fake_slack.posts()) == 2)
    assert [p["thread_ts"] for p in fake_slack.posts()] == [TS, TS]
