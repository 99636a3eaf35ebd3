"""``POST /v1/slack/events``: Slack Events API in, tickets out.

Slack wants a 2xx within 3 seconds or it retries (up to three times, with
``X-Slack-Retry-Num``).  The handler therefore verifies, dedupes and starts ticket
creation in a worker thread, then waits at most ``ack_budget`` seconds for it:

* done in time (the usual case: the ticket is stored, drafting happens later) → 200;
* refused for good (an id too long for its column, input the store rejects) → 200
  ``rejected``, logged with the event id: a retry would fail the same way;
* failed in time for a passing reason (say the database is down) → 503, so Slack's
  retry gets another go;
* still running → 200 anyway; the thread finishes on its own and logs any failure.

Only messages in the support channels (``TRIAGE_SLACK_SUPPORT_CHANNELS``) become
tickets.  De-duplication (by ``event_id`` and by channel + message ``ts``) is in the
database, shared by every API process: see ``app.services.slack_intake``.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from dataclasses import dataclass, field, replace
from typing import Any, Final

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from slack_sdk.signature import SignatureVerifier

from app.api.problems import problem_response
from app.api.routes.responses import problems
from app.services.slack_intake import RefusedSlackEvent, SlackInbox, SlackMessage, ticket_writer
from app.services.tickets import TicketService
from app.settings import Settings

__all__ = ["SlackEvents", "SlackMessage", "install", "message_from", "plain_text", "router"]

log = logging.getLogger(__name__)

ACK_BUDGET_SECONDS: Final = 1.5
ACCEPTED_EVENTS: Final = frozenset({"message", "app_mention"})


@dataclass
class SlackEvents:
    """Per-app configuration and state of the Slack endpoint (``app.state.slack_events``)."""

    signing_secret: str | None
    inbox: SlackInbox | None
    max_chars: int = 20_000
    # Shared with the API's own ticket creation, so a burst of Slack messages cannot run
    # more triage pipelines at once than the process is sized for.
    limiter: anyio.CapacityLimiter | None = None
    ack_budget: float = ACK_BUDGET_SECONDS
    # Strong references: the event loop only keeps weak ones to running tasks.
    pending: set[asyncio.Future[object]] = field(default_factory=set)
    # Messages this process is turning into tickets right now (event id, channel + ts):
    # a retry that arrives meanwhile is a duplicate at once, without a second triage run.
    # Across processes the database decides (see app.services.slack_intake).
    in_flight: set[str] = field(default_factory=set)


def install(
    app: FastAPI,
    settings: Settings,
    inbox: SlackInbox | None,
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
        inbox=inbox,
        max_chars=settings.max_message_chars,
        limiter=limiter,
        ack_budget=ack_budget,
    )
    app.state.slack_events = config
    return config


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
    # Slack escapes exactly &, < and >; html.unescape also undoes those.  NUL carries
    # nothing a reader could see and no text column can hold it: dropped.
    return html.unescape(text).replace("\x00", "").strip()


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


def _acknowledged(status: str) -> Response:
    return JSONResponse({"ok": True, "status": status})


def _log_late_failure(future: asyncio.Future[object], event_id: str) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if isinstance(exc, RefusedSlackEvent):
        log.warning("slack event %s cannot become a ticket: %s", event_id, exc)
    elif exc is not None:
        log.error("slack ticket creation failed after the ack: %s", event_id, exc_info=exc)


async def _create(
    request: Request, config: SlackEvents, inbox: SlackInbox, message: SlackMessage
) -> Response:
    future: asyncio.Future[object] = asyncio.ensure_future(
        anyio.to_thread.run_sync(inbox.create, message, limiter=config.limiter)
    )
    config.pending.add(future)
    future.add_done_callback(config.pending.discard)
    keys = _keys(message)
    config.in_flight.update(keys)
    future.add_done_callback(lambda _: config.in_flight.difference_update(keys))
    try:
        ticket_id = await asyncio.wait_for(asyncio.shield(future), timeout=config.ack_budget)
    except TimeoutError:
        future.add_done_callback(lambda f: _log_late_failure(f, message.event_id))
        log.info("slack event %s: ticket still being created after the ack", message.event_id)
        return _acknowledged("accepted")
    except RefusedSlackEvent as exc:
        # Permanent: a retry would fail the same way, so acknowledge (it is recorded).
        log.warning("slack event %s cannot become a ticket: %s", message.event_id, exc)
        return _acknowledged("rejected")
    except Exception:
        log.exception("slack event %s: ticket creation failed", message.event_id)
        return _problem(request, 503, "The ticket could not be stored; retry.")
    return _acknowledged("created" if ticket_id is not None else "duplicate")


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
    inbox = SlackInbox(
        service.factory,
        ticket_writer(service),
        support_channels=settings.slack_support_channels,
    )
    return install(request.app, settings, inbox, limiter=service.limiter)


def _keys(message: SlackMessage) -> tuple[str, str]:
    return (f"event:{message.event_id}", f"msg:{message.channel}:{message.ts}")


def _safe(value: str) -> str:
    """An id from a refused event, fit for a log line."""
    return repr(value[:80])


@router.post(
    "/v1/slack/events",
    tags=["slack"],
    summary="Slack Events API receiver",
    responses=problems(400, 401, 503),
)
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
    except (ValueError, RecursionError):
        return _problem(request, 400, "The body is not JSON.")
    if not isinstance(payload, dict):
        return _problem(request, 400, "The body is not a JSON object.")

    kind = payload.get("type")
    if kind == "url_verification":
        return JSONResponse({"challenge": str(payload.get("challenge", ""))})
    if kind != "event_callback":
        return _acknowledged("ignored")
    message = message_from(payload)
    if message is None:
        return _acknowledged("ignored")
    problem = message.problem()
    if problem is not None:
        log.warning("slack event %s refused: %s", _safe(message.event_id), problem)
        return _acknowledged("rejected")
    inbox = config.inbox
    if inbox is None:
        return _problem(request, 503, "No ticket service is wired to Slack.")
    if not inbox.accepts(message.channel):
        log.warning(
            "slack event %s ignored: channel %s is not in TRIAGE_SLACK_SUPPORT_CHANNELS",
            message.event_id,
            message.channel,
        )
        return _acknowledged("ignored")
    in_flight_here = bool(config.in_flight.intersection(_keys(message)))
    if in_flight_here or await anyio.to_thread.run_sync(inbox.seen, message):
        retry = request.headers.get("x-slack-retry-num")
        log.info("slack event %s is a duplicate (retry %s)", message.event_id, retry or "-")
        return _acknowledged("duplicate")
    if len(message.text) > config.max_chars:
        # Slack allows 40k characters; the API's limit is lower.  Keep the start (where
        # the question usually is) rather than drop the developer's message.
        message = replace(message, text=message.text[: config.max_chars])
    return await _create(request, config, inbox, message)
