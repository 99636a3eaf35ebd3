"""The console's conversation workflow against the real service, in headless Chromium:
the conversation view, a handwritten reply after a reject, the confirmation before a
needs-a-human draft is sent, status filters, a phone-width screen and the keyboard."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import LiveApp, PageErrors, StartApp, open_context

QUESTION = (
    "Our sandbox calls return 401 Unauthorized. How do we authenticate API requests? "
    "Should we send the client id and client secret with basic auth?"
)
FOLLOW_UP = "Still 401 after that. Request id req_7f3a9c, what next?"
SECRET_QUESTION = (
    "URGENT security: our live secret gs_live_9fK2mQ7xT4vB8nR1cW6yZ3pL5hJ0dS leaked in a "
    "public repo, attackers are calling the API. What do we do?"
)


def sign_in(page: Page, url: str, token: str) -> None:
    page.goto(url + "/console")
    page.get_by_label("Agent token").fill(token)
    page.get_by_label("Agent token").press("Enter")
    expect(page.locator("#workspace")).to_be_visible()


def create(app: LiveApp, message: str) -> dict[str, Any]:
    with app.api() as api:
        created = api.post("/v1/tickets", json={"message": message, "reporter": "dev@acme.test"})
        assert created.status_code == 201, created.text
        return dict(created.json())


def ticket_of(app: LiveApp, ticket_id: str) -> dict[str, Any]:
    with app.api() as api:
        return dict(api.get(f"/v1/tickets/{ticket_id}").json())


def open_ticket(page: Page, ticket_id: str) -> None:
    page.locator(f'.queue-item[data-ticket-id="{ticket_id}"]').click()
    expect(page.locator("#ticket-title")).to_have_text(ticket_id)


def test_conversation_note_reject_and_a_handwritten_reply_sent_once(
    start_app: StartApp, browser_context: tuple[Any, PageErrors], tmp_path: Path
) -> None:
    app = start_app()
    ticket = create(app, QUESTION)
    with app.api() as api:
        follow = api.post(
            f"/v1/tickets/{ticket['id']}/messages", json={"text": FOLLOW_UP, "author": "customer"}
        )
        assert follow.status_code == 201, follow.text
    context, errors = browser_context
    page = context.new_page()
    sign_in(page, app.url, app.agent_token)
    row = page.locator(f'.queue-item[data-ticket-id="{ticket["id"]}"]')
    expect(row.locator("[data-sla]")).to_have_attribute("data-due", re.compile(r"\d{4}-"))
    open_ticket(page, ticket["id"])
    page.get_by_role("button", name="Take").click()
    expect(page.get_by_role("button", name="Unassign")).to_be_visible()

    page.get_by_label("Note (never sent to the customer)").fill("Legacy plan; check billing.")
    page.get_by_role("button", name="Add note").click()
    entries = page.locator("#conversation > li")
    expect(entries.filter(has_text="Legacy plan")).to_have_attribute("data-kind", "note")
    kinds = list(entries.evaluate_all("(ls) => ls.map((l) => l.dataset.kind)"))
    said = [k for k in kinds if k in ("customer", "note", "event")]
    # The question, the follow-up, the assignment, then the note: in the order they happened.
    assert said == ["customer", "customer", "event", "note"], kinds
    assert entries.nth(kinds.index("customer")).inner_text().count(QUESTION[:30]) == 1
    expect(entries.filter(has_text=FOLLOW_UP)).to_have_attribute("data-kind", "customer")
    # The Markdown preview sits beside the editor; [n] markers link to their source.
    cite = page.locator("#draft-preview a.cite").first
    expect(cite).to_have_attribute("href", "#source-1")
    cite.hover()
    expect(page.locator("#draft-citations li").first).to_have_class(re.compile("cite-target"))
    page.locator("#conversation").scroll_into_view_if_needed()
    page.screenshot(path=tmp_path / "console-conversation.png")

    # Filters: mine finds the taken ticket; a ticket minutes old has breached no SLA.
    page.get_by_label("Mine").check()
    page.get_by_role("button", name="Apply").click()
    expect(row).to_have_count(1)
    page.get_by_label("SLA breached").check()
    page.get_by_role("button", name="Apply").click()
    expect(row).to_have_count(0)
    page.get_by_label("Mine").uncheck()
    page.get_by_label("SLA breached").uncheck()
    page.get_by_role("button", name="Apply").click()
    expect(row).to_have_count(1)

    page.get_by_role("button", name="Reject").click()
    expect(page.locator("#ticket-status")).to_have_attribute("data-status", "rejected")
    # A rejected ticket leaves the default queue but its status filter finds it.
    expect(row).to_have_count(0)
    page.get_by_label("Status").select_option("rejected")
    page.get_by_role("button", name="Apply").click()
    expect(row).to_have_count(1)
    open_ticket(page, ticket["id"])

    reply = "Use HTTP Basic auth with your client id and secret. — Ana"
    page.get_by_label("Reply to the customer (sent as written)").fill(reply)
    send = page.get_by_role("button", name="Send reply")
    send.click()
    send.click(force=True)  # a second click while the first is in flight
    replies = page.locator('#conversation > li[data-kind="agent"]').filter(has_text=reply)
    expect(replies).to_have_count(1)
    page.screenshot(path=tmp_path / "console-reply.png", full_page=True)
    final = ticket_of(app, ticket["id"])
    sent = [m for m in final["messages"] if m["author"] == "agent" and m["text"] == reply]
    assert len(sent) == 1
    note = next(m for m in final["messages"] if m["internal"])
    assert note["text"].startswith("Legacy")
    errors.assert_clean()


def test_a_needs_human_draft_asks_before_sending_keyboard_only(
    start_app: StartApp, browser_context: tuple[Any, PageErrors], tmp_path: Path
) -> None:
    app = start_app()
    ticket = create(app, SECRET_QUESTION)
    assert ticket["draft"]["needs_human"] or ticket["triage"]["flags"], ticket
    context, errors = browser_context
    page = context.new_page()
    page.goto(app.url + "/console")
    page.keyboard.type(app.agent_token)  # the token field has focus
    page.keyboard.press("Enter")
    expect(page.locator("#workspace")).to_be_visible()

    page.keyboard.press("?")
    help_dialog = page.locator("#help-dialog")
    expect(help_dialog).to_be_visible()
    listed = help_dialog.locator("kbd").all_inner_texts()
    for key in ("j", "k", "Enter", "r", "/", "t", "e", "w", "n", "Ctrl+Enter", "?", "Esc"):
        assert key in listed, key
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page.locator("#ticket-title")).to_have_text(ticket["id"])
    page.keyboard.press("e")
    expect(page.locator("#draft-text")).to_be_focused()
    page.keyboard.press("Control+Enter")
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    page.screenshot(path=tmp_path / "console-confirm.png")
    page.keyboard.press("Enter")  # focus starts on Cancel: Enter does not send
    expect(dialog).to_be_hidden()
    assert ticket_of(app, ticket["id"])["status"] == "pending_review"

    page.keyboard.press("Control+Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.locator("#confirm-send")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#ticket-status")).to_have_text(re.compile("approved|sent"))
    assert ticket_of(app, ticket["id"])["status"] in {"approved", "sent"}
    errors.assert_clean()


@pytest.mark.parametrize("width", [390])
def test_no_horizontal_overflow_on_a_phone(
    start_app: StartApp, browser: Any, tmp_path: Path, width: int
) -> None:
    app = start_app()
    ticket = create(app, QUESTION)
    context, errors = open_context(browser)
    try:
        page = context.new_page()
        page.set_viewport_size({"width": width, "height": 844})
        sign_in(page, app.url, app.agent_token)
        overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        assert page.evaluate(overflow) <= 0
        open_ticket(page, ticket["id"])
        expect(page.locator("#conversation > li").first).to_be_visible()
        assert page.evaluate(overflow) <= 0
        page.screenshot(path=tmp_path / f"console-{width}.png", full_page=True)
        errors.assert_clean()
    finally:
        context.close()
