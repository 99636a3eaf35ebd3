"""How to reach the developer behind a ticket: their email (optional) and the
unguessable conversation link they were given on ``/help``.

Only the SHA-256 of the link's token is stored (like API tokens): a database dump does
not reveal anyone's conversation.  The schema is owned by migration ``0006_contacts``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, select
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


def by_token(session: Session, token: str) -> TicketContact | None:
    wanted = TicketContact.token_hash == hash_token(token)
    return session.scalar(select(TicketContact).where(wanted))


def of_ticket(session: Session, ticket_id: str) -> TicketContact | None:
    return session.get(TicketContact, ticket_id)
