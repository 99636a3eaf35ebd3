"""The developer's side of a conversation, reached by the unguessable link they were
given on /help: read the replies, leave or change an email, follow up.

The link's token is the only credential, so everything here answers an unknown token
exactly as a missing ticket (404) and shows only what the developer may see: their
own ticket's customer messages and the replies sent to them (never an internal note, a
draft or a workflow event, and never the messages of a duplicate merged into it, which
belong to someone else).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from app.conversations.contacts import mask_email
from app.conversations.service import ConversationService
from app.conversations.view import Entry
from app.store import contacts
from app.store.columns import utcnow
from app.store.contacts import Contact
from app.store.errors import NotFoundError

log = logging.getLogger(__name__)

ACTOR = "public:help"
PublicStatus = Literal["open", "answered", "solved"]
_ANSWERED = frozenset({"approved", "sent", "awaiting_customer"})


@dataclass(frozen=True)
class PublicView:
    ticket_id: str
    status: PublicStatus
    messages: list[Entry]
    email: str | None  # masked
    name: str | None


class HelpConversations:
    def __init__(self, conversations: ConversationService) -> None:
        self.conversations = conversations
        self.sessions = conversations.sessions

    def _ticket_of(self, token: str) -> str:
        with self.sessions() as session:
            contact = contacts.by_token(session, token)
            if contact is None:
                raise NotFoundError("no conversation at this link")
            return contact.ticket_id

    def view(self, token: str) -> PublicView:
        ticket_id = self._ticket_of(token)
        conversation = self.conversations.view(ticket_id)
        # Only this ticket's entries: a duplicate merged into it is another developer's.
        own = [m for m in conversation.customer_visible() if m.ticket_id == ticket_id]
        status = conversation.ticket.status
        public: PublicStatus = (
            "solved" if status == "solved" else "answered" if status in _ANSWERED else "open"
        )
        with self.sessions() as session:
            contact = contacts.of_ticket(session, ticket_id)
        return PublicView(
            ticket_id=ticket_id,
            status=public,
            messages=own,
            email=mask_email(contact.email) if contact else None,
            name=contact.name if contact else None,
        )

    def set_contact(self, token: str, contact: Contact) -> PublicView:
        """Leave (or change) the email replies are sent to; the name too when given."""
        with self.sessions.begin() as session:
            row = contacts.by_token(session, token)
            if row is None:
                raise NotFoundError("no conversation at this link")
            row.email = contact.email
            if contact.name is not None:
                row.name = contact.name
            row.updated_at = utcnow()
            ticket_id = row.ticket_id
        log.info("contact saved", extra={"ticket_id": ticket_id, "to": mask_email(contact.email)})
        return self.view(token)

    def follow_up(self, token: str, text: str) -> PublicView:
        """Attach a follow-up to the ticket (reopening and re-drafting it as any
        customer follow-up does)."""
        ticket_id = self._ticket_of(token)
        self.conversations.follow_up(ticket_id, text, actor=ACTOR)
        return self.view(token)
