"""The console against the real service in headless Chromium: the developer's contact
from a /help hand-off shown to the agent, and linking two tickets of one incident from
the keyboard alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import PageErrors, StartApp
from tests.web.test_console_conversation import create, open_ticket, sign_in, ticket_of

HANDED_OFF = "Why was invoice 4471 on my account charged twice this month? Please check."
EMAIL = "dev.one@example.com"
OUTAGE = "All our payouts fail with 503 since 10:05 UTC in production, is Grid down?"
SAME_OUTAGE = "Production payouts return 503 Service Unavailable for every call since 10:05."


def test_the_agent_sees_the_contact_the_developer_left_on_help(
    start_app: StartApp, browser_context: tuple[Any, PageErrors], tmp_path: Path
) -> None:
    app = start_app(ask_answer_min_confidence=1.0)
    with app.api() as api:
        asked = api.post(
            "/v1/ask", json={"question": HANDED_OFF, "contact": {"email": EMAIL, "name": "Dev One"}}
        )
        assert asked.status_code == 200, asked.text
    ticket_id = asked.json()["ticket_id"]
    assert EMAIL not in asked.text, "the public answer never echoes the address"
    assert ticket_of(app, ticket_id)["contact"] == {"email": EMAIL, "name": "Dev One"}

    context, errors = browser_context
    page = context.new_page()
    sign_in(page, app.url, app.agent_token)
    open_ticket(page, ticket_id)
    contact = page.locator("#ticket-contact")
    expect(contact).to_be_visible()
    expect(contact).to_contain_text("Dev One")
    expect(page.locator("#contact-email")).to_have_attribute("href", f"mailto:{EMAIL}")
    page.locator("#ticket").screenshot(path=tmp_path / "console-contact.png")

    # A ticket without a contact shows none (not an empty line).
    other = create(app, SAME_OUTAGE)
    page.get_by_role("button", name="Refresh").click()
    open_ticket(page, other["id"])
    expect(contact).to_be_hidden()
    errors.assert_clean()


def test_linking_two_reports_of_one_incident_keyboard_only(
    start_app: StartApp, browser_context: tuple[Any, PageErrors], tmp_path: Path
) -> None:
    app = start_app()
    first, second = create(app, OUTAGE), create(app, SAME_OUTAGE)
    context, errors = browser_context
    page = context.new_page()
    page.goto(app.url + "/console")
    page.keyboard.type(app.agent_token)
    page.keyboard.press("Enter")
    expect(page.locator("#workspace")).to_be_visible()

    page.keyboard.press("?")
    assert "l" in page.locator("#help-dialog kbd").all_inner_texts()
    page.keyboard.press("Escape")

    # Open whichever ticket the queue lists first, link it to the other one.
    page.keyboard.press("j")
    opened = page.evaluate("document.activeElement.dataset.ticketId")
    page.keyboard.press("Enter")
    expect(page.locator("#ticket-title")).to_have_text(opened)
    other = second["id"] if opened == first["id"] else first["id"]
    page.keyboard.press("l")
    expect(page.locator("#link-other")).to_be_focused()
    page.keyboard.type(other)
    page.keyboard.press("Tab")
    expect(page.locator("#link-kind")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # submits the form: "Same incident" is the default
    expect(page.locator("#linked-list")).to_contain_text(other)
    expect(page.locator("#linked-list")).to_contain_text("same incident")
    expect(page.locator("#link-other")).to_have_value("")
    page.locator("#link-form").screenshot(path=tmp_path / "console-link.png")

    assert ticket_of(app, opened)["links"] == [{"ticket_id": other, "kind": "incident"}]
    assert ticket_of(app, other)["links"] == [{"ticket_id": opened, "kind": "incident"}]
    events = page.locator('#conversation > li[data-kind="event"]').filter(has_text="linked")
    expect(events).to_have_count(1)

    # A ticket id that does not exist is refused with the API's own words.
    page.locator("#link-other").focus()
    page.keyboard.type("tkt_doesnotexist")
    page.keyboard.press("Enter")
    expect(page.locator("#banner")).to_be_visible()
    expect(page.locator("#banner-detail")).to_contain_text("not found")
    errors.assert_clean()
