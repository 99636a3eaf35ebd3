"""Delivering approved replies: the sender per channel and the outbox runner.

Channels.  ``slack`` replies go through the Slack sender the caller passes in
(``app.slack.sender.build_slack_sender``: posted in the thread the question came
from).  ``api`` and ``widget`` replies have no outbound transport in this service: the
integration or the widget reads the ticket (its status becomes ``sent`` and the
approved text is the draft's ``final_text``), so delivering one means recording that it
is final, with a log line and a metric, unless the developer left an email on /help:
then app/services/mailer.py emails it.  Any other push (a webhook) adds a sender here;
it must pass the outbox message id along as the transport's idempotency key (see
app/store/outbox.py).
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from app.observability import Metrics
from app.store import outbox
from app.store.models import OutboxMessage
from app.store.outbox import Sender

log = logging.getLogger(__name__)


def record_delivery(message: OutboxMessage) -> None:
    """api/widget: the reply is final once the ticket says ``sent``; nothing to push."""
    log.info(
        "reply delivered",
        extra={
            "outbox_id": message.id,
            "ticket_id": message.ticket_id,
            "draft_id": message.draft_id,
            "channel": message.channel,
            "attempt": message.attempts,
        },
    )


def build_sender(slack: Sender, email: Sender | None = None) -> Sender:
    """One sender for the outbox that dispatches on the message's channel.

    ``email`` (app/services/mailer.py) takes the api/widget replies: it emails those
    whose ticket has an email contact and records the others as above.
    """
    other = email or record_delivery

    def send(message: OutboxMessage) -> None:
        if message.channel == "slack":
            slack(message)
        else:
            other(message)

    return send


class OutboxRunner:
    """One process's delivery loop body; safe to run in many processes at once."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        sender: Sender,
        metrics: Metrics,
        worker_id: str,
        *,
        stale_after: float,
        max_attempts: int,
        batch: int = 20,
    ) -> None:
        self.sessions = sessions
        self.sender = sender
        self.metrics = metrics
        self.worker_id = worker_id
        self.stale_after = stale_after
        self.max_attempts = max_attempts
        self.batch = batch

    def run_once(self) -> int:
        """Deliver one batch; returns how many messages were claimed (0: idle)."""
        report = outbox.deliver_pending(
            self.sessions,
            self.sender,
            self.worker_id,
            limit=self.batch,
            stale_after=self.stale_after,
            max_attempts=self.max_attempts,
        )
        for outcome in ("sent", "retrying", "failed", "lost"):
            count = getattr(report, outcome)
            if count:
                self.metrics.outbox.labels(outcome=outcome).inc(count)
        return report.claimed
