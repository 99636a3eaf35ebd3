"""What ``POST /v1/slack/events`` does once the request is verified and parsed.

Slack wants a 2xx within 3 seconds or it retries (up to three times, with
``X-Slack-Retry-Num``).  The receiver therefore dedupes and starts ticket creation in a
worker thread, then waits at most ``ack_budget`` seconds for it:

* done in time (the usual case: the ticket is stored, drafting happens later) →
  ``created`` (or ``duplicate`` when another delivery made the ticket first);
* refused for good (an id too long for its column, input the store rejects) →
  ``rejected``, logged with the event id: a retry would fail the same way;
* failed in time for a passing reason (say the database is down) → ``SlackUnavailable``
  (the route answers 503), so Slack's retry gets another go;
* still running → ``accepted``; the thread finishes on its own and logs any failure.

Only messages in the support channels (``TRIAGE_SLACK_SUPPORT_CHANNELS``) become
tickets.  De-duplication (by ``event_id`` and by channel + message ``ts``) is in the
database, shared by every API process (``app.slack.intake``), with this process's
messages in flight checked first (``app.slack.dedupe``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

import anyio
import anyio.to_thread

from app.services.tickets import TicketService
from app.settings import Settings
from app.slack.dedupe import InFlight
from app.slack.events import SlackMessage, message_from
from app.slack.intake import RefusedSlackEvent, SlackInbox, ticket_writer

log = logging.getLogger(__name__)

ACK_BUDGET_SECONDS: Final = 1.5

Outcome = Literal["created", "accepted", "duplicate", "rejected", "ignored"]


class SlackUnavailable(Exception):
    """The event could not be handled now; Slack should retry it (a 503)."""


@dataclass
class SlackReceiver:
    """Per-app configuration and state of the Slack endpoint."""

    signing_secret: str | None
    inbox: SlackInbox | None
    max_chars: int = 20_000
    # Shared with the API's own ticket creation, so a burst of Slack messages cannot run
    # more triage pipelines at once than the process is sized for.
    limiter: anyio.CapacityLimiter | None = None
    ack_budget: float = ACK_BUDGET_SECONDS
    # Strong references: the event loop only keeps weak ones to running tasks.
    pending: set[asyncio.Future[object]] = field(default_factory=set)
    in_flight: InFlight = field(default_factory=InFlight)

    @classmethod
    def configured(
        cls,
        settings: Settings,
        inbox: SlackInbox | None,
        *,
        limiter: anyio.CapacityLimiter | None = None,
        ack_budget: float = ACK_BUDGET_SECONDS,
    ) -> SlackReceiver:
        secret = settings.slack_signing_secret
        return cls(
            signing_secret=secret.get_secret_value() if secret is not None else None,
            inbox=inbox,
            max_chars=settings.max_message_chars,
            limiter=limiter,
            ack_budget=ack_budget,
        )

    async def receive(self, payload: dict[str, Any], *, retry: str | None = None) -> Outcome:
        """Handle one verified payload; ``retry`` is Slack's ``X-Slack-Retry-Num``."""
        message = message_from(payload) if payload.get("type") == "event_callback" else None
        if message is None:
            return "ignored"
        problem = message.problem()
        if problem is not None:
            log.warning("slack event %s refused: %s", _safe(message.event_id), problem)
            return "rejected"
        inbox = self.inbox
        if inbox is None:
            raise SlackUnavailable("No ticket service is wired to Slack.")
        if not inbox.accepts(message.channel):
            log.warning(
                "slack event %s ignored: channel %s is not in TRIAGE_SLACK_SUPPORT_CHANNELS",
                message.event_id,
                message.channel,
            )
            return "ignored"
        if message in self.in_flight or await anyio.to_thread.run_sync(inbox.seen, message):
            log.info("slack event %s is a duplicate (retry %s)", message.event_id, retry or "-")
            return "duplicate"
        if len(message.text) > self.max_chars:
            # Slack allows 40k characters; the API's limit is lower.  Keep the start (where
            # the question usually is) rather than drop the developer's message.
            message = replace(message, text=message.text[: self.max_chars])
        return await self._create(inbox, message)

    async def _create(self, inbox: SlackInbox, message: SlackMessage) -> Outcome:
        future: asyncio.Future[object] = asyncio.ensure_future(
            anyio.to_thread.run_sync(inbox.create, message, limiter=self.limiter)
        )
        self.pending.add(future)
        future.add_done_callback(self.pending.discard)
        keys = self.in_flight.add(message)
        future.add_done_callback(lambda _: self.in_flight.discard(keys))
        try:
            ticket_id = await asyncio.wait_for(asyncio.shield(future), timeout=self.ack_budget)
        except TimeoutError:
            future.add_done_callback(lambda f: _log_late_failure(f, message.event_id))
            log.info("slack event %s: ticket still being created after the ack", message.event_id)
            return "accepted"
        except RefusedSlackEvent as exc:
            # Permanent: a retry would fail the same way, so acknowledge (it is recorded).
            log.warning("slack event %s cannot become a ticket: %s", message.event_id, exc)
            return "rejected"
        except Exception as exc:
            log.exception("slack event %s: ticket creation failed", message.event_id)
            raise SlackUnavailable("The ticket could not be stored; retry.") from exc
        return "created" if ticket_id is not None else "duplicate"


def build_receiver(settings: Settings, tickets: TicketService) -> SlackReceiver:
    """The receiver of an API process: Slack messages through its ticket service."""
    inbox = SlackInbox(
        tickets.sessions,
        ticket_writer(tickets),
        support_channels=settings.slack_support_channels,
    )
    return SlackReceiver.configured(settings, inbox, limiter=tickets.limiter)


def _log_late_failure(future: asyncio.Future[object], event_id: str) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if isinstance(exc, RefusedSlackEvent):
        log.warning("slack event %s cannot become a ticket: %s", event_id, exc)
    elif exc is not None:
        log.error("slack ticket creation failed after the ack: %s", event_id, exc_info=exc)


def _safe(value: str) -> str:
    """An id from a refused event, fit for a log line."""
    return repr(value[:80])
