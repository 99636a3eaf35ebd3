"""``POST /v1/slack/events``: Slack Events API in, tickets out.

Slack wants a 2xx within 3 seconds or it retries (up to three times, with
``X-Slack-Retry-Num``).  The handler therefore verifies, dedupes and starts ticket
creation in a worker thread, then waits at most ``ack_budget`` seconds for it:

* done in time (the usual case: the ticket is stored, drafting happens later) → 200;
* failed in time (say the database is down) → 503, so Slack's retry gets another go;
* still running → 200 anyway; the thread finishes on its own and logs any failure.

Dedupe is on ``event_id`` (Slack's retries reuse it) and on channel + message ``ts``
(a message that mentions the bot arrives twice, as ``message`` and ``app_mention``, with
different event ids).  It is per process and bounded; the ticket creator should also
treat ``external_ref`` as unique for deployments with several API processes.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Final

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from slack_sdk.signature import SignatureVerifier

from app.api.problems import problem_response
from app.services.slack_sender import SlackThread
from app.services.tickets import NewTicket, TicketService
from app.settings import Settings
from app.store.errors import InvalidInputError

log = logging.getLogger(__name__)

ACK_BUDGET_SECONDS: Final = 1.5
DEDUPE_TTL_SECONDS: Final = 3600.0  # Slack gives up retrying well within an hour
DEDUPE_MAX_KEYS: Final = 20_000
ACCEPTED_EVENTS: Final = frozenset({"message", "app_mention"})


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


# Stores the ticket; runs in a worker thread, so it may block (database, triage).
SlackTicketCreator = Callable[[SlackMessage], object]


class RecentKeys:
    """A bounded, thread-safe set of keys seen in the last ``ttl`` seconds."""

    def __init__(self, ttl: float = DEDUPE_TTL_SECONDS, max_keys: int = DEDUPE_MAX_KEYS) -> None:
        self._ttl = ttl
        self._max = max_keys
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, *keys: str, now: float | None = None) -> bool:
        """Record ``keys``; False (recording nothing) if any was seen within the TTL."""
        now = time.monotonic() if now is None else now
        with self._lock:
            while self._seen and next(iter(self._seen.values())) <= now - self._ttl:
                self._seen.popitem(last=False)
            if any(key in self._seen for key in keys):
                return False
            for key in keys:
                self._seen[key] = now
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)
            return True

    def release(self, *keys: str) -> None:
        """Forget ``keys`` so a retry of a failed event is processed again."""
        with self._lock:
            for key in keys:
                self._seen.pop(key, None)


@dataclass
class SlackEvents:
    """Per-app configuration and state of the Slack endpoint (``app.state.slack_events``)."""

    signing_secret: str | None
    create_ticket: SlackTicketCreator | None
    max_chars: int = 20_000
    # Shared with the API's own ticket creation, so a burst of Slack messages cannot run
    # more triage pipelines at once than the process is sized for.
    limiter: anyio.CapacityLimiter | None = None
    dedupe: RecentKeys = field(default_factory=RecentKeys)
    ack_budget: float = ACK_BUDGET_SECONDS
    # Strong references: the event loop only keeps weak ones to running tasks.
    pending: set[asyncio.Future[object]] = field(default_factory=set)


def install(
    app: FastAPI,
    settings: Settings,
    create_ticket: SlackTicketCreator | None,
    *,
    limiter: anyio.CapacityLimiter | None = None,
    ack_budget: float = ACK_BUDGET_SECONDS,
) -> SlackEvents:
    """Configure the endpoint for ``app`` explicitly (tests, custom wiring).

    Apps built by ``create_app`` need not call this: the first event configures the
    endpoint from ``app.state.services`` (see ``_config``).
    """
    secret = settings.slack_signing_secret
    config = SlackEvents(
        signing_secret=secret.get_secret_value() if secret is not None else None,
        create_ticket=create_ticket,
        max_chars=settings.max_message_chars,
        limiter=limiter,
        ack_budget=ack_budget,
    )
    app.state.slack_events = config
    return config


def ticket_creator(service: TicketService) -> SlackTicketCreator:
    """Slack messages through the API's ticket service (redaction, triage, draft)."""

    def create(message: SlackMessage) -> object:
        new = NewTicket(
            message=message.text,
            channel="slack",
            reporter=message.user,
            metadata=message.metadata,
            external_ref=message.external_ref,
        )
        return service.create_now(new, actor=f"slack:{message.user}").id

    return create


router = APIRouter()


def _problem(request: Request, status: int, detail: str, *, slug: str | None = None) -> Response:
    return problem_response(status, detail, instance=request.url.path, slug=slug)


def signature_ok(secret: str, body: bytes, timestamp: str | None, signature: str | None) -> bool:
    """Slack's v0 signature over the raw body, within the 5-minute replay window."""
    try:
        return SignatureVerifier(secret).is_valid(body, timestamp, signature)
    except (ValueError, UnicodeDecodeError):  # a non-numeric timestamp or non-UTF-8 body
        return False


_LINK = re.compile(r"<(https?://[^|>]+)(?:\|[^>]*)?>")
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!([a-z]+)(?:\^[^|>]*)?(?:\|[^>]*)?>")
_LEADING_MENTIONS = re.compile(r"^(?:\s*<@[A-Z0-9]+(?:\|[^>]*)?>)+[\s,:]*")


def plain_text(text: str, *, strip_leading_mention: bool = False) -> str:
    """Slack's wire format as the developer typed it: links, mentions and escapes undone.

    Redaction and signal extraction need the literal text (``<``/``>`` in code, bare
    URLs), and an ``app_mention`` starts with the bot's own mention, which is noise.
    """
    if strip_leading_mention:
        text = _LEADING_MENTIONS.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _USER.sub(r"@\1", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _SPECIAL.sub(r"@\1", text)
    # Slack escapes exactly &, < and >; html.unescape also undoes those.
    return html.unescape(text).strip()


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


def _log_late_failure(future: asyncio.Future[object], keys: tuple[str, ...]) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if exc is not None:
        log.error("slack ticket creation failed after the ack: %s", keys[0], exc_info=exc)


async def _create(
    request: Request, config: SlackEvents, message: SlackMessage, keys: tuple[str, ...]
) -> Response:
    creator = config.create_ticket
    assert creator is not None
    future: asyncio.Future[object] = asyncio.ensure_future(
        anyio.to_thread.run_sync(creator, message, limiter=config.limiter)
    )
    config.pending.add(future)
    future.add_done_callback(config.pending.discard)
    try:
        await asyncio.wait_for(asyncio.shield(future), timeout=config.ack_budget)
    except TimeoutError:
        future.add_done_callback(lambda f: _log_late_failure(f, keys))
        log.info("slack event %s: ticket still being created after the ack", message.event_id)
        return JSONResponse({"ok": True, "status": "accepted"})
    except InvalidInputError as exc:
        # Permanent: a retry would fail the same way, so acknowledge and keep the keys.
        log.warning("slack event %s cannot become a ticket: %s", message.event_id, exc)
        return JSONResponse({"ok": True, "status": "rejected"})
    except Exception:
        config.dedupe.release(*keys)
        log.exception("slack event %s: ticket creation failed", message.event_id)
        return _problem(request, 503, "The ticket could not be stored; retry.")
    return JSONResponse({"ok": True, "status": "created"})


def _config(request: Request) -> SlackEvents | None:
    state = request.app.state
    config = getattr(state, "slack_events", None)
    if isinstance(config, SlackEvents):
        return config
    # Built on first use from the services the lifespan created, so the app factory only
    # includes the router.  No await between the check and the install: on the event
    # loop, two first requests cannot both build one.
    services = getattr(state, "services", None)
    service = getattr(services, "tickets", None)
    settings = getattr(services, "settings", None)
    if not isinstance(service, TicketService) or not isinstance(settings, Settings):
        return None
    return install(request.app, settings, ticket_creator(service), limiter=service.limiter)


@router.post("/v1/slack/events", tags=["slack"], summary="Slack Events API receiver")
async def slack_events(request: Request) -> Response:
    config = _config(request)
    if config is None or not config.signing_secret:
        return _problem(
            request,
            503,
            "Slack events are not configured: set TRIAGE_SLACK_SIGNING_SECRET.",
            slug="slack-not-configured",
        )
    body = await request.body()
    if not signature_ok(
        config.signing_secret,
        body,
        request.headers.get("x-slack-request-timestamp"),
        request.headers.get("x-slack-signature"),
    ):
        return _problem(
            request,
            401,
            "Missing, invalid or expired Slack signature.",
            slug="invalid-slack-signature",
        )
    try:
        payload = json.loads(body)
    except ValueError:
        return _problem(request, 400, "The body is not JSON.")
    if not isinstance(payload, dict):
        return _problem(request, 400, "The body is not a JSON object.")

    kind = payload.get("type")
    if kind == "url_verification":
        return JSONResponse({"challenge": str(payload.get("challenge", ""))})
    if kind != "event_callback":
        return JSONResponse({"ok": True, "status": "ignored"})
    message = message_from(payload)
    if message is None:
        return JSONResponse({"ok": True, "status": "ignored"})
    keys = (f"event:{message.event_id}", f"msg:{message.channel}:{message.ts}")
    if not config.dedupe.claim(*keys):
        retry = request.headers.get("x-slack-retry-num")
        log.info("slack event %s is a duplicate (retry %s)", message.event_id, retry or "-")
        return JSONResponse({"ok": True, "status": "duplicate"})
    if len(message.text) > config.max_chars:
        # Slack allows 40k characters; the API's limit is lower.  Keep the start (where
        # the question usually is) rather than drop the developer's message.
        message = replace(message, text=message.text[: config.max_chars])
    if config.create_ticket is None:
        config.dedupe.release(*keys)
        return _problem(request, 503, "No ticket service is wired to Slack.")
    return await _create(request, config, message, keys)
