"""The help page's hand-off against the real service and a loopback SMTP server: the
page asks for an email, the agent's reply is emailed once, and the conversation link
shows the reply and takes a follow-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.smtp_inbox import local_smtp
from tests.web.conftest import PageErrors, StartApp

QUESTION = "Why was invoice 4471 on my account charged twice this month? Please check."
EMAIL = "dev.one@example.com"
REPLY = "We refunded the duplicate charge on invoice 4471."


def _approve(app: Any, ticket_id: str) -> None:
    with app.api() as client:
        ticket = client.get(f"/v1/tickets/{ticket_id}").json()
        approved = client.post(
            f"/v1/drafts/{ticket['draft']['id']}/approve",
            json={"text": REPLY},
            headers={"Idempotency-Key": "browser-approve"},
        )
        assert approved.status_code == 200, approved.text


def _status(app: Any, ticket_id: str) -> str:
    with app.api() as client:
        return str(client.get(f"/v1/tickets/{ticket_id}").json()["status"])


def test_a_hand_off_asks_for_an_email_and_the_link_shows_the_reply(
    start_app: StartApp, browser_context: tuple[Any, PageErrors], tmp_path: Path
) -> None:
    context, errors = browser_context
    with local_smtp() as inbox:
        # Every question is handed off: the hand-off is under test, not the threshold.
        app = start_app(ask_answer_min_confidence=1.0, worker_poll_seconds=0.1, **inbox.settings())
        page = context.new_page()
        page.goto(app.url + "/help")
        page.get_by_label("Your question").fill(QUESTION)
        page.get_by_role("button", name="Ask").click()
        expect(page.locator("#result")).to_have_attribute("data-handed-off", "true", timeout=30_000)

        # The page asks for an email; a malformed one is refused on the page.
        email = page.locator("#contact-email")
        expect(email).to_be_visible()
        email.fill("not an address")
        page.locator("#contact-btn").click()
        expect(page.locator("#contact-error")).to_be_visible()
        email.fill(EMAIL)
        page.locator("#contact-btn").click()
        expect(page.locator("#contact-card")).to_have_attribute("data-saved", "true")
        expect(page.locator("#contact-error")).to_be_hidden()
        link = page.locator("#conversation-link")
        expect(link).to_be_visible()
        href = link.get_attribute("href") or ""
        assert href.startswith("/help/c/")
        ticket_id = page.locator("#ticket-ref").text_content() or ""
        page.screenshot(path=tmp_path / "help-handoff-email.png", full_page=True)

        # The agent answers; the reply is emailed once.
        _approve(app, ticket_id)
        deadline_checks = 300
        while _status(app, ticket_id) != "sent" and deadline_checks:
            page.wait_for_timeout(100)
            deadline_checks -= 1
        assert _status(app, ticket_id) == "sent"
        assert [rcpt for rcpt, _ in inbox.messages] == [[EMAIL]]

        # The developer comes back with the link: the reply is there; they follow up.
        page.goto(app.url + href)
        messages = page.locator("#messages > li")
        expect(messages).to_have_count(2)
        expect(messages.nth(1)).to_have_attribute("data-author", "agent")
        expect(messages.nth(1)).to_contain_text("refunded")
        page.get_by_label("Reply to support").fill("Will the refund show today?")
        page.locator("#followup-btn").click()
        expect(messages).to_have_count(3, timeout=30_000)
        expect(messages.nth(2)).to_have_attribute("data-author", "customer")
        page.screenshot(path=tmp_path / "help-conversation.png", full_page=True)
        assert _status(app, ticket_id) == "pending_review"
        assert len(inbox.messages) == 1
    errors.assert_clean()


def test_an_identity_from_the_embedding_site_is_used_without_asking(
    start_app: StartApp, browser_context: tuple[Any, PageErrors]
) -> None:
    context, errors = browser_context
    app = start_app(ask_answer_min_confidence=1.0)
    page = context.new_page()
    page.goto(app.url + f"/help?email={EMAIL}&name=Dev%20One")
    page.get_by_label("Your question").fill(QUESTION)
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#result")).to_have_attribute("data-handed-off", "true", timeout=30_000)
    expect(page.locator("#conversation-link")).to_be_visible()
    expect(page.locator("#contact-form")).to_be_hidden()
    href = page.locator("#conversation-link").get_attribute("href") or ""
    with app.api() as client:
        shown = client.get("/v1/conversations/" + href.rsplit("/", 1)[-1]).json()
    assert shown["contact"]["email"] not in (None, EMAIL)  # stored, shown masked
    assert shown["contact"]["name"] == "Dev One"

    # A link that is not one says so.
    page.goto(app.url + "/help/c/" + "x" * 43)
    expect(page.locator("#conversation-error")).to_be_visible()
    expect(page.locator("#messages > li")).to_have_count(0)
    errors.assert_clean()


def test_a_docs_question_handed_off_offers_the_pages_found_as_reading(
    start_app: StartApp, browser_context: tuple[Any, PageErrors]
) -> None:
    context, errors = browser_context
    app = start_app(ask_answer_min_confidence=1.0)  # no docs-only draft is shown
    page = context.new_page()
    page.goto(app.url + "/help")
    page.get_by_label("Your question").fill("How do I authenticate my API requests?")
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#result")).to_have_attribute("data-handed-off", "true", timeout=30_000)
    # The unshown draft's pages are offered as reading, with no quoted text as an answer.
    expect(page.locator("#related-block")).to_be_visible()
    assert page.locator("#related a").count() >= 1
    expect(page.locator("#sources-block")).to_be_hidden()
    errors.assert_clean()
