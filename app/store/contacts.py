"""How to reach the developer behind a ticket: their email (optional) and the
unguessable conversation link they were given on ``/help``.

Only the SHA-256 of the link's token is stored (like API tokens): a database dump does
not reveal anyone's conversation.  So the link the developer was given cannot be put
into an email later; each emailed reply carries a link of its own instead
(``ConversationLink``: more tokens for the same conversation, equally hashed), and
every one of them keeps working.  The schema is owned by migrations ``0006_contacts``
and ``0007_conv_sla_sweep``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.columns import UTCDateTime, utcnow
from app.store.models import Base

TOKEN_BYTES = 32
MAX_EMAIL_CHARS = 254
MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class Contact:
    """A developer's contact as given (already validated: see app/conversations/contacts.py)."""

    email: str | None = None
    name: str | None = None


class TicketContact(Base):
    __tablename__ = "ticket_contacts"

    ticket_id: Mapped[str] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str | None] = mapped_column(String(MAX_EMAIL_CHARS))
    name: Mapped[str | None] = mapped_column(String(MAX_NAME_CHARS))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConversationLink(Base):
    """A further link to a contact's conversation (one per emailed reply)."""

    __tablename__ = "conversation_links"
    __table_args__ = (Index("ix_conversation_links_ticket_id", "ticket_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(
    session: Session,
    ticket_id: str,
    *,
    email: str | None,
    name: str | None,
    now: datetime | None = None,
) -> str:
    """Store the ticket's contact; returns the conversation token (shown once)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = now or utcnow()
    session.add(
        TicketContact(
            ticket_id=ticket_id,
            email=email,
            name=name,
            token_hash=hash_token(token),
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()
    return token


def add_link(session: Session, ticket_id: str, *, now: datetime | None = None) -> str:
    """Another token for the ticket's conversation (for an email); returned once."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        ConversationLink(
            token_hash=hash_token(token), ticket_id=ticket_id, created_at=now or utcnow()
        )
    )
    session.flush()
    return token


def by_token(session: Session, token: str) -> TicketContact | None:
    """The contact whose conversation this token opens (its first link or an emailed one)."""
    digest = hash_token(token)
    found = session.scalar(select(TicketContact).where(TicketContact.token_hash == digest))
    if found is not None:
        return found
    ticket_id = session.scalar(
        select(ConversationLink.ticket_id).where(ConversationLink.token_hash == digest)
    )
    return None if ticket_id is None else session.get(TicketContact, ticket_id)


def of_ticket(session: Session, ticket_id: str) -> TicketContact | None:
    return session.get(TicketContact, ticket_id)
