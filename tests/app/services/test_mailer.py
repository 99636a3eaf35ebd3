"""Email delivery through the outbox against a real SMTP server on loopback: sent once,
refusals fail at once, temporary errors are retried, tickets without an email are not
emailed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.services.delivery import build_sender
from app.services.mailer import EmailSender
from app.settings import Settings
from app.store import contacts, outbox, reviews
from app.store.models import OutboxMessage
from tests.app.conftest import Seeder
from tests.smtp_inbox import Inbox, local_smtp

EMAIL = "dev.two@example.com"


class Refusing(Inbox):
    """Refuses recipients (550) or, with ``temporary``, the data (451)."""

    temporary = False

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.temporary:
            envelope.rcpt_tos.append(address)
            return "250 OK"
        return "550 no such user here"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "451 try again later"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with local_smtp() as box:
        yield box


def _approved(sessions: sessionmaker[Session], seed: Seeder, *, email: str | None) -> str:
    seeded = seed.ticket()
    assert seeded.draft_id is not None
    with sessions.begin() as s:
        if email is not None:
            contacts.create(s, seeded.ticket_id, email=email, name=None)
        reviews.approve(s, seeded.draft_id, reviewer="alice")
        return s.scalars(
            select(OutboxMessage.id).where(OutboxMessage.draft_id == seeded.draft_id)
        ).one()


def _deliver(sessions: sessionmaker[Session], settings: Settings) -> outbox.DeliveryReport:
    sender = build_sender(lambda m: None, EmailSender(settings, sessions))
    return outbox.deliver_pending(sessions, sender, "w1")


def _status(sessions: sessionmaker[Session], msg_id: str) -> str:
    with sessions() as s:
        message = s.get(OutboxMessage, msg_id)
        assert message is not None
        return message.status


def test_an_approved_reply_is_emailed_once_and_a_ticket_without_email_is_not(
    sessions: sessionmaker[Session], seed: Seeder, inbox: Inbox
) -> None:
    settings = Settings(**inbox.settings())
    with_email = _approved(sessions, seed, email=EMAIL)
    without = _approved(sessions, seed, email=None)
    assert _deliver(sessions, settings).sent == 2
    assert _deliver(sessions, settings).claimed == 0
    assert [rcpt for rcpt, _ in inbox.messages] == [[EMAIL]]
    assert with_email in inbox.messages[0][1]["Message-ID"]
    assert _status(sessions, without) == "sent"


def test_a_refused_recipient_fails_at_once_and_a_temporary_error_is_retried(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    refusing = Refusing("127.0.0.1", 0)
    with local_smtp(refusing) as box:
        settings = Settings(**box.settings())
        refused = _approved(sessions, seed, email=EMAIL)
        report = _deliver(sessions, settings)
        assert (report.failed, report.sent) == (1, 0)
        assert _status(sessions, refused) == "failed"

        refusing.temporary = True
        later = _approved(sessions, seed, email=EMAIL)
        report = _deliver(sessions, settings)
        assert (report.retrying, report.sent) == (1, 0)
        assert _status(sessions, later) == "pending"
