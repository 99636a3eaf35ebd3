"""Reaching the developer: a /help question handed off, an email left, the agent's
replies emailed once through a real SMTP server on loopback (aiosmtpd), and the
conversation link showing the replies and taking a follow-up."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from sqlalchemy import select

from app.services.mailer import EmailSender
from app.store import contacts
from app.store.models import AuditLog, OutboxMessage
from tests.api.conftest import Api, MakeApi, wait_for
from tests.smtp_inbox import Inbox, local_smtp

EMAIL = "dev.one@example.com"
# Behind a proxy under a path prefix: the emailed link must carry both.
PUBLIC_BASE_URL = "https://support.example.test/desk"
LINK = re.compile(re.escape(PUBLIC_BASE_URL) + r"/help/c/([A-Za-z0-9_-]{20,})")
# A question about the caller's own account: the pipeline hands it off to a person.
QUESTION = "Why was invoice 4471 on my account charged twice this month? Please check."


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with local_smtp() as box:
        yield box


def _mail_api(make_api: MakeApi, inbox: Inbox | None) -> Api:
    smtp = inbox.settings() if inbox else {}
    # Every question is handed off: the flow after the hand-off is under test.
    return make_api(
        ask_answer_min_confidence=1.0,
        smtp_from="support@triage.test",
        public_base_url=PUBLIC_BASE_URL + "/",
        **smtp,
    )


def _hand_off(api: Api, **body: Any) -> dict[str, Any]:
    asked = api.client.post("/v1/ask", json={"question": QUESTION, **body})
    assert asked.status_code == 200, asked.text
    data = asked.json()
    assert data["handed_off"] is True
    assert data["ticket_id"]
    assert data["conversation_url"].startswith("/help/c/")
    return data


def _token(data: dict[str, Any]) -> str:
    return str(data["conversation_url"].rsplit("/", 1)[-1])


def _ticket(api: Api, ticket_id: str) -> dict[str, Any]:
    got = api.client.get(f"/v1/tickets/{ticket_id}", headers=api.auth())
    assert got.status_code == 200, got.text
    return dict(got.json())


def _approve(api: Api, ticket_id: str, key: str, text: str) -> None:
    draft = _ticket(api, ticket_id)["draft"]
    approved = api.client.post(
        f"/v1/drafts/{draft['id']}/approve",
        json={"text": text},
        headers={**api.auth(), "Idempotency-Key": key},
    )
    assert approved.status_code == 200, approved.text


def _body(email: Message) -> str:
    """The text as the developer reads it (the transfer encoding undone)."""
    payload = email.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(email.get_content_charset() or "utf-8")


def _sent(api: Api, ticket_id: str) -> bool:
    return _ticket(api, ticket_id)["status"] == "sent"


def _outbox(api: Api, ticket_id: str) -> list[OutboxMessage]:
    with api.sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id))
        return list(rows)


def test_a_handed_off_question_is_answered_by_email_once_and_on_the_conversation_page(
    make_api: MakeApi, inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = _mail_api(make_api, inbox)
    asked = _hand_off(api)
    ticket_id, token = asked["ticket_id"], _token(asked)

    # The page asks for an email after the hand-off; the link is the only credential.
    saved = api.client.put(f"/v1/conversations/{token}/contact", json={"email": EMAIL})
    assert saved.status_code == 200, saved.text
    assert saved.json()["contact"]["email"] not in (None, EMAIL)  # shown masked

    note = api.client.post(
        f"/v1/tickets/{ticket_id}/messages",
        json={"text": "Billing says legacy plan.", "author": "agent", "internal": True},
        headers=api.auth(),
    )
    assert note.status_code == 201, note.text

    # The agent approves (and a retry of that approval changes nothing).
    reply = "We refunded the duplicate charge on invoice 4471."
    _approve(api, ticket_id, "approve-1", reply)
    wait_for(lambda: _sent(api, ticket_id))
    _approve(api, ticket_id, "approve-1", reply)
    assert len(inbox.messages) == 1
    recipients, email = inbox.messages[0]
    assert recipients == [EMAIL]
    assert reply in email.get_payload()  # type: ignore[operator]
    (outbox,) = _outbox(api, ticket_id)
    assert outbox.id in email["Message-ID"]
    # The email links back to the conversation, with a link of its own (the first one is
    # stored only hashed) that opens the same conversation.
    emailed = LINK.search(_body(email))
    assert emailed is not None, _body(email)
    emailed_token = emailed.group(1)
    assert emailed_token != token
    by_email = api.client.get(f"/v1/conversations/{emailed_token}")
    assert by_email.status_code == 200, by_email.text
    assert by_email.json()["ticket_id"] == ticket_id

    # A delivery retried after the server accepted (a worker whose claim went stale)
    # sends nothing more.
    EmailSender(api.app.state.services.settings, api.sessions)(outbox)
    assert len(inbox.messages) == 1

    # The developer comes back with their link: the reply, never the note.
    page = api.client.get(f"/v1/conversations/{token}")
    assert page.status_code == 200, page.text
    shown = page.json()
    assert [m["author"] for m in shown["messages"]] == ["customer", "agent"]
    assert shown["messages"][1]["text"] == reply
    assert all("legacy plan" not in m["text"] for m in shown["messages"])
    assert shown["ticket_id"] == ticket_id

    # Their follow-up attaches to the same ticket, which goes back to an agent.
    followed = api.client.post(
        f"/v1/conversations/{token}/messages", json={"text": "Will the refund show today?"}
    )
    assert followed.status_code == 201, followed.text
    assert [m["author"] for m in followed.json()["messages"]] == ["customer", "agent", "customer"]
    detail = _ticket(api, ticket_id)
    assert detail["status"] == "pending_review"
    assert any("refund show today" in m["text"] for m in detail["messages"])

    # A handwritten reply is emailed once too, however often the request is retried.
    for _ in range(2):
        written = api.client.post(
            f"/v1/tickets/{ticket_id}/messages",
            json={"text": "Yes, within the day.", "author": "agent"},
            headers={**api.auth(), "Idempotency-Key": "reply-1"},
        )
        assert written.status_code == 201, written.text
    wait_for(lambda: _sent(api, ticket_id))
    assert len(inbox.messages) == 2
    second = _body(inbox.messages[1][1])
    assert "Yes, within the day." in second
    again = LINK.search(second)
    assert again is not None
    assert again.group(1) != emailed_token
    assert api.client.get(f"/v1/conversations/{token}").json()["messages"][-1]["text"] == (
        "Yes, within the day."
    )

    # The address reached the SMTP server only, and the link's token (a credential)
    # nowhere: no record of the service's logs carries either (the test's own SMTP
    # server and HTTP client log them, of course).
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("app", "triage", "uvicorn")]
    assert ours
    for record in ours:
        assert EMAIL not in repr(record.__dict__), record.getMessage()
        for credential in (token, emailed_token, again.group(1)):
            assert credential not in repr(record.__dict__), record.getMessage()


def test_without_smtp_the_reply_is_recorded_as_not_emailed_and_shown_on_the_page(
    make_api: MakeApi,
) -> None:
    api = _mail_api(make_api, None)
    asked = _hand_off(api, contact={"email": EMAIL, "name": "Dev One"})
    ticket_id, token = asked["ticket_id"], _token(asked)
    _approve(api, ticket_id, "approve-1", "Refunded.")
    wait_for(lambda: _sent(api, ticket_id))
    with api.sessions() as session:
        actions = set(
            session.scalars(select(AuditLog.action).where(AuditLog.ticket_id == ticket_id))
        )
    assert "reply_email_not_configured" in actions
    assert "reply_emailed" not in actions
    shown = api.client.get(f"/v1/conversations/{token}").json()
    assert shown["messages"][-1]["text"] == "Refunded."
    assert shown["contact"]["name"] == "Dev One"


@pytest.mark.parametrize(
    "email", ["not-an-address", "a@b", "dev@example.com\r\nBcc: x@evil.test", "a..b@example.com"]
)
def test_an_invalid_email_is_refused(make_api: MakeApi, email: str) -> None:
    api = _mail_api(make_api, None)
    refused = api.client.post("/v1/ask", json={"question": QUESTION, "contact": {"email": email}})
    assert refused.status_code == 422
    token = _token(_hand_off(api))
    refused = api.client.put(f"/v1/conversations/{token}/contact", json={"email": email})
    assert refused.status_code == 422


def test_an_unknown_link_shows_nothing(make_api: MakeApi) -> None:
    api = _mail_api(make_api, None)
    _hand_off(api)
    unknown = "x" * 43
    assert api.client.get(f"/v1/conversations/{unknown}").status_code == 404
    posted = api.client.post(f"/v1/conversations/{unknown}/messages", json={"text": "hello"})
    assert posted.status_code == 404
    assert api.client.get(f"/help/c/{unknown}").status_code == 200  # the page says so itself


def test_agents_see_the_contact_integrations_and_public_pages_never_do(
    make_api: MakeApi,
) -> None:
    api = _mail_api(make_api, None)
    asked = _hand_off(api, contact={"email": EMAIL, "name": "Dev One"})
    assert EMAIL not in json.dumps(asked)
    assert _ticket(api, asked["ticket_id"])["contact"] == {"email": EMAIL, "name": "Dev One"}
    public = api.client.get(f"/v1/conversations/{_token(asked)}").json()
    assert EMAIL not in json.dumps(public)

    # An integration reading its own ticket never sees a contact stored on it.
    created = api.client.post(
        "/v1/tickets", json={"message": QUESTION}, headers=api.auth("integration")
    ).json()
    with api.sessions.begin() as session:
        contacts.create(session, created["id"], email=EMAIL, name=None)
    own = api.client.get(f"/v1/tickets/{created['id']}", headers=api.auth("integration"))
    assert own.status_code == 200, own.text
    assert own.json()["contact"] is None
    assert EMAIL not in own.text
    assert _ticket(api, created["id"])["contact"] == {"email": EMAIL, "name": None}
