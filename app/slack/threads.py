"""Replies in a Slack thread: a developer's follow-up joins the thread's ticket.

A message posted in reply inside a thread whose first message became a ticket is part
of that conversation: it attaches to the ticket (reopening it if solved, superseding
the pending draft, re-drafting with the whole conversation) instead of opening a new,
history-less ticket.  The answer goes back to the same thread, as the ticket's
``external_ref`` says.  Any other message becomes a ticket as before.

Exactly once: the Slack event is recorded in the follow-up's own transaction (the
intake's ``claim``), and the message is stored under ``slack:<channel>:<ts>``, unique
per ticket.
"""

from __future__ import annotations

from app.conversations.service import ConversationService
from app.slack.events import SlackMessage
from app.slack.intake import Claim, TicketWriter


def external_id(message: SlackMessage) -> str:
    return f"slack:{message.channel}:{message.ts}"


def thread_writer(create: TicketWriter, conversations: ConversationService) -> TicketWriter:
    """``create`` for new conversations; follow-ups in a known thread attach to it."""

    def write(message: SlackMessage, claim: Claim) -> str:
        if message.ts != message.thread_ts:
            ticket_id = conversations.ticket_for("slack", message.external_ref)
            if ticket_id is not None:
                return conversations.follow_up_now(
                    ticket_id,
                    message.text,
                    actor=f"slack:{message.user}",
                    external_id=external_id(message),
                    meta=message.metadata,
                    on_stored=claim,
                )
        return create(message, claim)

    return write
