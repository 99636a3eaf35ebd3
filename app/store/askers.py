"""Who asked on /help, as a keyed hash: enough to tell whether the same browser opened a
ticket after an answer (deflection, docs/metrics.md), never who they are.

The /help page keeps a random id per browser and sends it as ``asker``; the store keeps
only HMAC-SHA256 of it under a key generated once per database (``asker_hash_keys``), so
the metric tables hold no e-mail address or raw id, and a copy of them cannot be joined
with another system's ids without that key.  Schema owned by migration 0010_deflection.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.columns import UTCDateTime, utcnow
from app.store.models import Base

KEY_CHARS = 64  # hex of SHA-256
MAX_ASKER_CHARS = 200


class AskerHashKey(Base):
    __tablename__ = "asker_hash_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AskerTicket(Base):
    """A ticket opened from /help, with its asker's key (the tickets table stays as it is)."""

    __tablename__ = "asker_tickets"
    __table_args__ = (Index("ix_asker_tickets_asker_key", "asker_key", "created_at"),)

    ticket_id: Mapped[str] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    asker_key: Mapped[str] = mapped_column(String(KEY_CHARS))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def _secret(session: Session) -> bytes:
    """The database's hashing key, made on first use (two processes racing: one wins)."""
    stored = session.scalar(select(AskerHashKey.secret).where(AskerHashKey.id == 1))
    if stored is None:
        try:
            with session.begin_nested():
                session.add(AskerHashKey(id=1, secret=secrets.token_hex(32)))
        except IntegrityError:
            pass
        stored = session.scalar(select(AskerHashKey.secret).where(AskerHashKey.id == 1))
    assert stored is not None
    return bytes.fromhex(stored)


def asker_key(session: Session, asker: str | None) -> str | None:
    """The stored form of an opaque asker id (None for none or a blank one)."""
    if asker is None or not asker.strip():
        return None
    digest = hmac.new(_secret(session), asker.strip().encode(), hashlib.sha256)
    return digest.hexdigest()


def record_ticket(session: Session, ticket_id: str, key: str, created_at: datetime) -> None:
    session.add(AskerTicket(ticket_id=ticket_id, asker_key=key, created_at=created_at))
    session.flush()
