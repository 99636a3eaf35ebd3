"""Slack events in: the request's signature and the Events API payload as a message.

``signature_ok`` checks Slack's v0 signature (with its 5-minute replay window) over the
raw body; ``message_from`` keeps only fresh human messages (``message`` and
``app_mention``) and turns them into a ``SlackMessage``, the domain value the intake,
the de-duplication and the reply's address are built on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from slack_sdk.signature import SignatureVerifier

from app.slack.markup import plain_text
from app.slack.sender import SlackThread
from app.store.slack_events import MAX_CHANNEL, MAX_EVENT_ID, MAX_TS, SlackEventKey

ACCEPTED_EVENTS: Final = frozenset({"message", "app_mention"})

# Slack ids (event, team, channel, user) and timestamps are short ASCII tokens; anything
# else is refused before it reaches a column it could overflow.
_SLACK_ID: Final = re.compile(r"^[A-Za-z0-9._:-]+$")
MAX_USER: Final = 64


@dataclass(frozen=True)
class SlackMessage:
    """A developer's Slack message, ready to become a ticket (channel ``slack``)."""

    event_id: str
    event_type: str
    team_id: str | None
    channel: str
    user: str
    text: str
    ts: str
    # Where the reply goes: the thread the message is in, or a new thread under it.
    thread_ts: str

    @property
    def key(self) -> SlackEventKey:
        return SlackEventKey(self.event_id, self.channel, self.ts)

    @property
    def external_ref(self) -> str:
        return SlackThread(self.channel, self.thread_ts).to_ref()

    @property
    def metadata(self) -> dict[str, Any]:
        return {
            "slack": {
                "event_id": self.event_id,
                "event_type": self.event_type,
                "team_id": self.team_id,
                "channel": self.channel,
                "user": self.user,
                "ts": self.ts,
                "thread_ts": self.thread_ts,
            }
        }

    def problem(self) -> str | None:
        """Why this message can never be stored (a permanent error), or None."""
        fields = (
            ("event_id", self.event_id, MAX_EVENT_ID),
            ("team_id", self.team_id or "", MAX_CHANNEL),
            ("channel", self.channel, MAX_CHANNEL),
            ("user", self.user, MAX_USER),
            ("ts", self.ts, MAX_TS),
            ("thread_ts", self.thread_ts, MAX_TS),
        )
        for name, value, limit in fields:
            if len(value) > limit:
                return f"{name} is longer than {limit} characters"
            if value and not _SLACK_ID.match(value):
                return f"{name} is not a Slack id"
        return None


def signature_ok(secret: str, body: bytes, timestamp: str | None, signature: str | None) -> bool:
    """Slack's v0 signature over the raw body, within the 5-minute replay window."""
    try:
        return SignatureVerifier(secret).is_valid(body, timestamp, signature)
    except (ValueError, UnicodeDecodeError):  # a non-numeric timestamp or non-UTF-8 body
        return False


def message_from(payload: dict[str, Any]) -> SlackMessage | None:
    """The developer message in an ``event_callback``, or None when it is not one."""
    event = payload.get("event")
    if not isinstance(event, dict) or event.get("type") not in ACCEPTED_EVENTS:
        return None
    # Any subtype is not a fresh human message: bot_message, message_changed (edits),
    # message_deleted, channel_join, file_share… and bots may post without a subtype.
    if event.get("subtype") or event.get("bot_id") or event.get("bot_profile"):
        return None
    user, channel, ts = (
        _text(event.get("user")),
        _text(event.get("channel")),
        _text(event.get("ts")),
    )
    event_id, raw = _text(payload.get("event_id")), _text(event.get("text"))
    if not (user and channel and ts and event_id and raw):
        return None
    text = plain_text(raw, strip_leading_mention=event["type"] == "app_mention")
    if not text:
        return None
    return SlackMessage(
        event_id=event_id,
        event_type=str(event["type"]),
        team_id=_text(payload.get("team_id")) or None,
        channel=channel,
        user=user,
        text=text,
        ts=ts,
        # Reply in the thread the message sits in: Slack wants the parent's ts there; a
        # reply's own ts would start a new thread on the reply.
        thread_ts=_text(event.get("thread_ts")) or ts,
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
