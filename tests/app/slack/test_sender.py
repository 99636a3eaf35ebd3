"""The outbox sender posts approved replies into the developer's Slack thread."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from app.slack.sender import (
    SlackDeliveryError,
    SlackDestinationRefused,
    SlackThread,
    build_slack_sender,
)
from app.store import outbox, reviews, tickets
from app.store.models import OutboxMessage
from tests.app.slack.conftest import BOT_TOKEN
from tests.fakes.slack_server import FakeSlack

CHANNEL = "C0SUPPORT"
THREAD_TS = "1712345678.000200"


def settings_for(slack: FakeSlack, token: str | None = BOT_TOKEN) -> Settings:
    return Settings(
        slack_bot_token=SecretStr(token) if token else None,
        slack_api_url=slack.api_url,
        slack_support_channels=[CHANNEL],
    )


def outbox_message(
    *, attempts: int = 1, text: str = "Rotate the key under Settings > API keys."
) -> OutboxMessage:
    ref = SlackThread(CHANNEL, THREAD_TS).to_ref()
    return OutboxMessage(
        id="obx_test_1",
        ticket_id="tkt_1",
        draft_id="drf_1",
        channel="slack",
        payload={
            "ticket_id": "tkt_1",
            "draft_id": "drf_1",
            "channel": "slack",
            "external_ref": ref,
            "text": text,
            "citations": [
                {
                    "doc_id": "docs/auth",
                    "source": "docs/auth.md",
                    "url": "https://docs.example.com/auth#rotate",
                    "quote": "Rotate",
                }
            ],
        },
        status="sending",
        attempts=attempts,
    )


def test_posts_reply_into_the_thread_with_outbox_id(fake_slack: FakeSlack) -> None:
    send = build_slack_sender(settings_for(fake_slack))

    send(outbox_message())

    [call] = fake_slack.calls("chat.postMessage")
    assert call.token == BOT_TOKEN
    assert call.args["channel"] == CHANNEL
    assert call.args["thread_ts"] == THREAD_TS
    assert call.args["client_msg_id"] == "obx_test_1"
    assert call.args["metadata"]["event_payload"]["outbox_id"] == "obx_test_1"
    # Escaped for mrkdwn, and the cited page is linked under the text.
    assert call.args["text"].startswith("Rotate the key under Settings &gt; API keys.")
    assert "<https://docs.example.com/auth#rotate|docs/auth.md>" in call.args["text"]


@pytest.mark.parametrize(("error", "status"), [("ratelimited", 429), ("channel_not_found", 200)])
def test_api_error_raises_so_the_outbox_retries(
    fake_slack: FakeSlack, error: str, status: int
) -> None:
    fake_slack.fail_next(error, status=status)
    send = build_slack_sender(settings_for(fake_slack))

    with pytest.raises(SlackDeliveryError, match=error):
        send(outbox_message())
    assert fake_slack.posts() == []


def test_invalid_token_raises(fake_slack: FakeSlack) -> None:
    send = build_slack_sender(settings_for(fake_slack, token="xoxb-wrong"))
    with pytest.raises(SlackDeliveryError, match="invalid_auth"):
        send(outbox_message())


def test_without_a_bot_token_every_send_fails_clearly(fake_slack: FakeSlack) -> None:
    send = build_slack_sender(settings_for(fake_slack, token=None))
    with pytest.raises(SlackDeliveryError, match="TRIAGE_SLACK_BOT_TOKEN"):
        send(outbox_message())
    assert fake_slack.calls() == []


def test_a_resend_already_in_the_thread_is_not_posted_twice(fake_slack: FakeSlack) -> None:
    fake_slack.seed_thread(CHANNEL, THREAD_TS, "My API key stopped working")
    send = build_slack_sender(settings_for(fake_slack))
    send(outbox_message(attempts=1))

    # The worker died before marking it sent; the outbox hands it out again.
    send(outbox_message(attempts=2))

    assert len(fake_slack.posts()) == 1
    assert len(fake_slack.calls("conversations.replies")) == 1


def test_a_resend_posts_when_the_thread_cannot_be_read(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("missing_scope", method="conversations.replies")
    send = build_slack_sender(settings_for(fake_slack))

    send(outbox_message(attempts=2))

    assert len(fake_slack.posts()) == 1


@pytest.mark.parametrize("ref", [None, "not json", '{"channel": "C1"}', "{}"])
def test_a_message_without_a_slack_thread_fails(fake_slack: FakeSlack, ref: str | None) -> None:
    message = outbox_message()
    message.payload = {**message.payload, "external_ref": ref}
    send = build_slack_sender(settings_for(fake_slack))
    with pytest.raises(SlackDeliveryError, match="not a Slack thread"):
        send(message)
    assert fake_slack.calls() == []


def _approved_slack_ticket(sessions: sessionmaker[Session]) -> str:
    with sessions.begin() as session:
        ticket = tickets.create_ticket(
            session,
            channel="slack",
            reporter="U_DEV",
            message="My API key stopped working",
            external_ref=SlackThread(CHANNEL, THREAD_TS).to_ref(),
        )
        draft = tickets.add_draft(
            session, ticket.id, text="Rotate it.", confidence=0.9, needs_human=False
        )
        reviews.approve(session, draft.id, reviewer="agent:ana", text="Rotate it, please.")
        return ticket.id


def test_outbox_delivers_through_the_sender(
    fake_slack: FakeSlack, sessions: sessionmaker[Session]
) -> None:
    ticket_id = _approved_slack_ticket(sessions)
    send = build_slack_sender(settings_for(fake_slack))

    report = outbox.deliver_pending(sessions, send, "worker-1")

    assert (report.sent, report.retrying) == (1, 0)
    [post] = fake_slack.posts()
    assert (post["channel"], post["thread_ts"], post["text"]) == (
        CHANNEL,
        THREAD_TS,
        "Rotate it, please.",
    )
    with sessions() as session:
        assert tickets.get_ticket(session, ticket_id).status == "sent"


def test_outbox_keeps_a_rate_limited_reply_for_retry(
    fake_slack: FakeSlack, sessions: sessionmaker[Session]
) -> None:
    ticket_id = _approved_slack_ticket(sessions)
    fake_slack.fail_next("ratelimited", status=429, retry_after=30)
    send = build_slack_sender(settings_for(fake_slack))

    report = outbox.deliver_pending(sessions, send, "worker-1")

    assert (report.sent, report.retrying) == (0, 1)
    with sessions() as session:
        [message] = session.query(OutboxMessage).all()
        assert message.status == "pending"
        assert "ratelimited" in (message.last_error or "")
        assert tickets.get_ticket(session, ticket_id).status == "approved"


def test_a_reply_aimed_outside_the_support_channels_is_never_posted(
    fake_slack: FakeSlack, sessions: sessionmaker[Session]
) -> None:
    # An agent-created "slack" ticket whose external_ref names some other channel.
    with sessions.begin() as session:
        ticket = tickets.create_ticket(
            session,
            channel="slack",
            reporter="dev",
            message="hi",
            external_ref=SlackThread("C0GENERAL", THREAD_TS).to_ref(),
        )
        draft = tickets.add_draft(
            session, ticket.id, text="x", citations=[], confidence=0.9, needs_human=False
        )
        reviews.approve(session, draft.id, reviewer="agent:ana", text="Posted anywhere?")
    send = build_slack_sender(settings_for(fake_slack))

    report = outbox.deliver_pending(sessions, send, "worker-1")

    assert (report.sent, report.failed, report.retrying) == (0, 1, 0)
    assert fake_slack.posts() == []
    with sessions() as session:
        [message] = session.query(OutboxMessage).all()
        assert message.status == "failed"
        assert "TRIAGE_SLACK_SUPPORT_CHANNELS" in (message.last_error or "")
    with pytest.raises(SlackDestinationRefused):
        build_slack_sender(settings_for(fake_slack))(message)
