"""Slack messages already handled, shared by every API process through the database.

Slack delivers one message more than once: retries of an event (same ``event_id``) and,
for a message that mentions the bot, a ``message`` and an ``app_mention`` event (two
event ids, one channel + ``ts``).  Both keys are unique in ``slack_events``; the row is
written in the ticket's own transaction, so when two processes race on one message the
second insert waits for the first transaction and then does nothing: one ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.store.columns import utcnow
from app.store.ids import new_id
from app.store.models import SlackEvent, SlackEventOutcome

# Column sizes (models.SlackEvent): a key that does not fit is refused before any write.
MAX_EVENT_ID = 255
MAX_CHANNEL = 64
MAX_TS = 32


@dataclass(frozen=True)
class SlackEventKey:
    event_id: str
    channel: str
    ts: str


def _matches(key: SlackEventKey) -> ColumnElement[bool]:
    return or_(
        SlackEvent.event_id == key.event_id,
        and_(SlackEvent.channel == key.channel, SlackEvent.ts == key.ts),
    )


def seen(session: Session, key: SlackEventKey) -> bool:
    """True when this event, or another event for the same message, was handled."""
    return bool(session.scalar(select(exists().where(_matches(key)))))


def record(
    session: Session,
    key: SlackEventKey,
    *,
    outcome: SlackEventOutcome,
    ticket_id: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Record the event as handled; False (writing nothing) when either key already is.

    ``ON CONFLICT DO NOTHING`` without a target covers both unique constraints, and a
    conflict leaves the caller's transaction usable (no savepoint needed).
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(SlackEvent)
        .values(
            id=new_id("sle"),
            event_id=key.event_id,
            channel=key.channel,
            ts=key.ts,
            ticket_id=ticket_id,
            outcome=outcome,
            created_at=now or utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(SlackEvent.id)
    )
    return session.execute(stmt).scalar_one_or_none() is not None


def prune(session: Session, *, before: datetime) -> int:
    """Forget events handled before ``before``; returns how many rows went.

    Slack retries an event within the hour, so a row only guards against duplicates for
    a short while; kept forever, the table would grow with every message.
    """
    result = session.execute(delete(SlackEvent).where(SlackEvent.created_at < before))
    return int(getattr(result, "rowcount", 0) or 0)
