"""Slack messages into tickets, exactly once whichever API process receives them.

``SlackInbox`` is what the Slack endpoint talks to: is this message one we already
handled (``seen``), turn it into a ticket (``create``), or record that it can never be
one (``refuse``).  De-duplication lives in the database (``app.store.slack_events``):
the event is recorded in the ticket's own transaction, so two processes receiving one
message (Slack's retries, a ``message`` and an ``app_mention`` for one post, a restart
in between) make one ticket, and a failed attempt leaves nothing behind for the retry
to trip over.

Errors are sorted for Slack's retry logic: an error that would repeat on every retry
(invalid input, a value the database refuses) raises ``RefusedSlackEvent`` after the
event is recorded as refused; anything else propagates, so the endpoint answers 503 and
Slack retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.services.tickets import NewTicket, TicketService
from app.slack.events import SlackMessage
from app.store import slack_events
from app.store.errors import InvalidInputError

log = logging.getLogger(__name__)


class RefusedSlackEvent(Exception):
    """The message can never become a ticket; it is recorded, so retries are duplicates."""


class _Duplicate(Exception):
    """Another delivery of the message committed first; this transaction rolls back."""


# Called by a ticket writer inside the ticket's transaction, with the new ticket's id.
Claim = Callable[[Session, str], None]
# Stores the ticket for a message, calling ``claim`` in the same transaction; returns
# the ticket id.  Runs in a worker thread, so it may block (database, triage).
TicketWriter = Callable[[SlackMessage, Claim], str]


class SlackInbox:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        write: TicketWriter,
        *,
        support_channels: Iterable[str],
    ) -> None:
        self.sessions = sessions
        self.write = write
        self.support_channels = frozenset(support_channels)

    def accepts(self, channel: str) -> bool:
        """Only support channels become tickets (and only they ever get replies)."""
        return channel in self.support_channels

    def seen(self, message: SlackMessage) -> bool:
        with self.sessions() as session:
            return slack_events.seen(session, message.key)

    def create(self, message: SlackMessage) -> str | None:
        """The new ticket's id, or None when another delivery of it made the ticket."""

        def claim(session: Session, ticket_id: str) -> None:
            if not slack_events.record(session, message.key, outcome="ticket", ticket_id=ticket_id):
                raise _Duplicate(message.event_id)

        try:
            return self.write(message, claim)
        except _Duplicate:
            return None
        except InvalidInputError as exc:
            reason = str(exc)
        except (DataError, IntegrityError) as exc:
            # The driver's class only: the message may quote the row, secrets included.
            reason = f"the database refused the ticket ({type(exc.orig).__name__})"
        self.refuse(message)
        raise RefusedSlackEvent(reason)

    def refuse(self, message: SlackMessage) -> None:
        """Record a message that can never become a ticket, so a retry is a duplicate."""
        try:
            with self.sessions.begin() as session:
                slack_events.record(session, message.key, outcome="refused")
        except Exception:
            log.warning("slack event %s: could not record the refusal", message.event_id)


def ticket_writer(service: TicketService) -> TicketWriter:
    """Slack messages through the API's ticket service (redaction, triage, draft)."""

    def write(message: SlackMessage, claim: Claim) -> str:
        new = NewTicket(
            message=message.text,
            channel="slack",
            reporter=message.user,
            metadata=message.metadata,
            external_ref=message.external_ref,
        )
        ticket = service.create_now(
            new,
            actor=f"slack:{message.user}",
            on_stored=lambda session, stored: claim(session, stored.id),
        )
        return ticket.id

    return write
