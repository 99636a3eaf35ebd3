"""Delivers approved replies from the outbox into the Slack thread they answer.

At-least-once, made harmless.  The outbox may hand the same message to a sender twice
(a worker died after Slack accepted the post but before ``mark_sent`` committed), so each
post carries the outbox id twice over:

* ``client_msg_id`` = the outbox id.  Slack's own clients use this field to tag a post;
  it is stored on the message, but Slack does not promise to drop duplicates by it.
* message ``metadata`` (``event_type`` ``triage_reply``, ``event_payload.outbox_id``),
  which Slack returns from ``conversations.replies``.

So on any attempt after the first, the sender first reads the thread and, when a message
with this outbox id is already there, reports success without posting again.  Reading
the thread needs the ``channels:history`` / ``groups:history`` / ``im:history`` scopes;
without them the check is skipped (logged) and the post goes ahead, since a rare
duplicate is better than a reply that is never delivered.

Failures raise ``SlackDeliveryError`` (Slack's error code in the message), which the
outbox records and retries with backoff.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from app.settings import Settings
from app.slack.markup import format_reply
from app.store.models import OutboxMessage
from app.store.outbox import Sender

log = logging.getLogger(__name__)

METADATA_EVENT_TYPE: Final = "triage_reply"
# Well under the outbox's claim lease (TRIAGE_OUTBOX_STALE_AFTER_SECONDS, 60 s, renewed
# before each send), so a slow Slack call never lets a second worker take the message
# over while this one is still waiting.
SLACK_TIMEOUT_SECONDS: Final = 15
REPLIES_PAGE: Final = 200


class SlackDeliveryError(RuntimeError):
    """The reply could not be posted; the outbox will retry it."""


class SlackDestinationRefused(SlackDeliveryError):
    """The reply is aimed at a channel that is not a support channel: never posted, and
    not retried (the outbox reads ``permanent``)."""

    permanent = True


@dataclass(frozen=True)
class SlackThread:
    """Where a Slack ticket's reply goes; stored as the ticket's ``external_ref``."""

    channel: str
    thread_ts: str

    def to_ref(self) -> str:
        # Compact JSON: the column is a 255-character string, and JSON keeps the two
        # parts unambiguous whatever characters a channel id ever contains.
        return json.dumps(
            {"channel": self.channel, "thread_ts": self.thread_ts}, separators=(",", ":")
        )

    @classmethod
    def from_ref(cls, ref: object) -> SlackThread:
        """Parse ``external_ref`` as stored (a JSON string) or already decoded (a dict)."""
        value: object = ref
        if isinstance(ref, str):
            try:
                value = json.loads(ref)
            except ValueError as exc:
                raise SlackDeliveryError(f"external_ref is not a Slack thread: {ref!r}") from exc
        if isinstance(value, Mapping):
            channel, thread_ts = value.get("channel"), value.get("thread_ts")
            if isinstance(channel, str) and channel and isinstance(thread_ts, str) and thread_ts:
                return cls(channel=channel, thread_ts=thread_ts)
        raise SlackDeliveryError(f"external_ref is not a Slack thread: {ref!r}")


def _error_code(exc: SlackApiError) -> str:
    data = getattr(exc.response, "data", None)
    if isinstance(data, Mapping):
        return str(data.get("error") or "unknown_error")
    return "unknown_error"


def _already_posted(client: WebClient, thread: SlackThread, outbox_id: str) -> bool:
    try:
        cursor: str | None = None
        while True:
            page = client.conversations_replies(
                channel=thread.channel,
                ts=thread.thread_ts,
                include_all_metadata=True,
                limit=REPLIES_PAGE,
                cursor=cursor,
            )
            for item in page.get("messages") or []:
                payload = (item.get("metadata") or {}).get("event_payload") or {}
                if item.get("client_msg_id") == outbox_id or payload.get("outbox_id") == outbox_id:
                    return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return False
    except SlackApiError as exc:
        log.warning(
            "cannot check thread %s for an earlier post of %s (%s); posting anyway",
            thread.thread_ts,
            outbox_id,
            _error_code(exc),
        )
        return False


def post_reply(client: WebClient, message: OutboxMessage) -> str | None:
    """Post one outbox message; returns the Slack ``ts`` (None if it was already there)."""
    payload = message.payload
    thread = SlackThread.from_ref(payload.get("external_ref"))
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip():
        raise SlackDeliveryError(f"outbox {message.id} has no reply text")
    if message.attempts > 1 and _already_posted(client, thread, message.id):
        log.info("outbox %s already in thread %s; not posting again", message.id, thread.thread_ts)
        return None
    try:
        response = client.chat_postMessage(
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            text=format_reply(text, payload.get("citations") or []),
            unfurl_links=False,
            unfurl_media=False,
            client_msg_id=message.id,
            metadata={
                "event_type": METADATA_EVENT_TYPE,
                "event_payload": {
                    "outbox_id": message.id,
                    "ticket_id": message.ticket_id,
                    "draft_id": message.draft_id,
                },
            },
        )
    except SlackApiError as exc:
        raise SlackDeliveryError(f"chat.postMessage failed: {_error_code(exc)}") from exc
    except SlackClientError as exc:
        raise SlackDeliveryError(f"chat.postMessage failed: {exc}") from exc
    ts = response.get("ts")
    return ts if isinstance(ts, str) else None


def build_slack_client(settings: Settings) -> WebClient | None:
    if settings.slack_bot_token is None:
        return None
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=SLACK_TIMEOUT_SECONDS,
    )


def build_slack_sender(settings: Settings, *, client: WebClient | None = None) -> Sender:
    """The outbox sender for ``channel == "slack"`` messages.

    Without a bot token every send fails with a clear error (and the outbox keeps the
    message for a retry once the token is configured) rather than failing at start-up,
    so deployments that never use Slack need no Slack settings.
    """
    slack = client or build_slack_client(settings)
    support_channels = frozenset(settings.slack_support_channels)

    def send(message: OutboxMessage) -> None:
        # Checked before anything else: whoever set the ticket's external_ref, the bot only
        # ever speaks in the channels it serves.
        thread = SlackThread.from_ref(message.payload.get("external_ref"))
        if thread.channel not in support_channels:
            raise SlackDestinationRefused(
                f"channel {thread.channel!r} is not in TRIAGE_SLACK_SUPPORT_CHANNELS"
            )
        if slack is None:
            raise SlackDeliveryError("Slack is not configured: set TRIAGE_SLACK_BOT_TOKEN")
        post_reply(slack, message)

    return send
