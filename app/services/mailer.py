"""Email delivery of an agent's reply to a developer who left an address on /help.

A sender for the outbox (app/store/outbox.py), beside Slack's: the outbox decides
*when* (once per approved reply, retried with backoff); this module decides *how*.

Exactly once.  The outbox marks a message sent after the sender returns, so a worker
that dies between the SMTP server's acceptance and that mark would send again.  Two
guards make that harmless: the Message-ID is derived from the outbox id (a receiving
system can drop the duplicate), and an ``reply_emailed`` audit row is committed right
after the server accepts, which a retry of the same outbox message checks first.

Not configured.  Without TRIAGE_SMTP_HOST a reply for an email contact is recorded
(``reply_email_not_configured`` in the audit trail) and the message is marked sent: the
developer reads it on their conversation page.  Never a crash, never a retry loop.

Privacy.  The full address is only ever handed to the SMTP server; logs and the audit
trail carry the masked form.

The link back.  Each email ends with a link to the developer's conversation page
(TRIAGE_PUBLIC_BASE_URL + /help/c/{token}), with a token of its own.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.conversations.contacts import conversation_path, mask_email
from app.services.delivery import record_delivery
from app.settings import Settings
from app.store import audit, contacts
from app.store.models import AuditLog, OutboxMessage
from app.store.outbox import Sender

log = logging.getLogger(__name__)

EMAILED = "reply_emailed"
NOT_CONFIGURED = "reply_email_not_configured"
ACTOR = "outbox:email"


class EmailRefused(Exception):
    """The server refused the message for good (5xx): retrying would be refused too."""

    permanent = True


def compose(
    message: OutboxMessage,
    *,
    to: str,
    name: str | None,
    sender: str,
    conversation_url: str | None = None,
) -> EmailMessage:
    """The reply as an email; its Message-ID is the outbox id (the idempotency key).
    ``conversation_url``: where the developer reads the conversation and answers."""
    payload = message.payload
    lines = [str(payload.get("text", ""))]
    citations = payload.get("citations") or []
    links = [c.get("url") for c in citations if isinstance(c, dict) and c.get("url")]
    if links:
        lines += ["", *(f"[{n}] {url}" for n, url in enumerate(links, 1))]
    if conversation_url:
        lines += ["", "--", "Read the whole conversation and reply:", conversation_url]
    email = EmailMessage()
    email["From"] = sender
    email["To"] = formataddr((name or "", to))
    email["Subject"] = f"Re: your question [{message.ticket_id}]"
    email["Date"] = formatdate(localtime=False)
    domain = sender.rsplit("@", 1)[-1].strip("> ") or "triage.invalid"
    email["Message-ID"] = f"<{message.id}@{domain}>"
    email["X-Triage-Ticket"] = message.ticket_id
    email.set_content("\n".join(lines))
    return email


class EmailSender:
    """Sends api/widget replies whose ticket has an email contact; records the rest."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions

    def __call__(self, message: OutboxMessage) -> None:
        with self.sessions() as session:
            contact = contacts.of_ticket(session, message.ticket_id)
            address = contact.email if contact is not None else None
            name = contact.name if contact is not None else None
            done = address is not None and _already_emailed(session, message)
        if address is None:
            record_delivery(message)
            return
        masked = mask_email(address)
        if done:
            log.info("reply already emailed", extra={"outbox_id": message.id, "to": masked})
            return
        if not self.settings.smtp_host:
            log.warning(
                "reply not emailed: SMTP is not configured (TRIAGE_SMTP_HOST)",
                extra={"outbox_id": message.id, "ticket_id": message.ticket_id, "to": masked},
            )
            self._record(message, NOT_CONFIGURED, masked)
            return
        email = compose(
            message,
            to=address,
            name=name,
            sender=self.settings.smtp_from,
            conversation_url=self._conversation_url(message.ticket_id),
        )
        self._send(email)
        self._record(message, EMAILED, masked)
        log.info(
            "reply emailed",
            extra={"outbox_id": message.id, "ticket_id": message.ticket_id, "to": masked},
        )

    def _conversation_url(self, ticket_id: str) -> str:
        """A link of this email's own to the developer's conversation page: the one they
        were first given is stored only as a hash (app/store/contacts.py).  Committed
        before sending, so the link works by the time the email arrives; the token is a
        credential and never logged."""
        with self.sessions.begin() as session:
            token = contacts.add_link(session, ticket_id)
        return f"{self.settings.public_base_url}{conversation_path(token)}"

    def _record(self, message: OutboxMessage, action: str, masked: str | None) -> None:
        with self.sessions.begin() as session:
            audit.record(
                session,
                ticket_id=message.ticket_id,
                actor=ACTOR,
                action=action,
                detail={"outbox_id": message.id, "draft_id": message.draft_id, "to": masked},
            )

    def _send(self, email: EmailMessage) -> None:
        s = self.settings
        host = s.smtp_host or ""
        timeout = s.smtp_timeout_seconds
        context = ssl.create_default_context()
        client = (
            smtplib.SMTP_SSL(host, s.smtp_port, timeout=timeout, context=context)
            if s.smtp_tls == "ssl"
            else smtplib.SMTP(host, s.smtp_port, timeout=timeout)
        )
        try:
            with client:
                if s.smtp_tls == "starttls":
                    client.starttls(context=context)
                if s.smtp_username:
                    password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                    client.login(s.smtp_username, password)
                client.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            raise EmailRefused("the SMTP server refused the recipient") from exc
        except smtplib.SMTPAuthenticationError:
            raise  # our credentials: fixable by an operator, so retried
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                code = exc.smtp_code
                raise EmailRefused(f"the SMTP server refused the message ({code})") from exc
            raise


def _already_emailed(session: Session, message: OutboxMessage) -> bool:
    """True when an earlier attempt of this outbox message reached the SMTP server."""
    rows = session.scalars(
        select(AuditLog.detail).where(
            AuditLog.ticket_id == message.ticket_id, AuditLog.action == EMAILED
        )
    )
    return any(isinstance(d, dict) and d.get("outbox_id") == message.id for d in rows)


def build_email_sender(settings: Settings, sessions: sessionmaker[Session]) -> Sender:
    return EmailSender(settings, sessions)
