"""The agent console against the real service: sign in, review, approve, see it sent."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.web.conftest import PageErrors, StartApp

QUESTION = (
    "Our sandbox calls return 401 Unauthorized. How do we authenticate API requests? "
    "Should we send the client id and client secret with basic auth?"
)
SIGN_OFF = "\n\nThanks for reaching out. — Ana, Developer Support"


def sign_in(page: Page, url: str, token: str) -> None:
    page.goto(url + "/console")
    page.get_by_label("Agent token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def test_agent_signs_in_reviews_edits_and_approves_a_draft(
    start_app: StartApp, browser_context: tuple[Any, PageErrors], tmp_path: Path
) -> None:
    app = start_app()
    with app.api() as api:
        created = api.post("/v1/tickets", json={"message": QUESTION, "reporter": "dev@acme.test"})
        assert created.status_code == 201, created.text
        ticket = created.json()
    assert ticket["status"] == "pending_review"
    draft = ticket["draft"]
    assert draft["citations"]

    context, errors = browser_context
    page = context.new_page()
    page.goto(app.url + "/console")
    page.screenshot(path=tmp_path / "console-login.png")

    # A mistyped token: the API's 401 problem detail, and no token kept.
    sign_in(page, app.url, "trg_not-a-real-token")
    expect(page.locator("#login-error")).to_have_text("The API token is unknown or revoked.")
    expect(page.get_by_label("Agent token")).to_be_focused()
    expect(page.locator("#workspace")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    page.screenshot(path=tmp_path / "console-401.png")

    sign_in(page, app.url, app.agent_token)
    item = page.locator(f'.queue-item[data-ticket-id="{ticket["id"]}"]')
    expect(item).to_contain_text(ticket["priority"])
    item.click()
    expect(page.locator("#ticket-title")).to_have_text(ticket["id"])
    expect(page.locator("#ticket-status")).to_have_text("pending review")
    expect(page.locator("#ticket-message")).to_have_text(ticket["message"])
    expect(page.locator("#triage-list")).to_contain_text(ticket["triage"]["category"])
    expect(page.locator("#triage-list")).to_contain_text(ticket["triage"]["team"])
    expect(page.get_by_label("Draft reply text")).to_have_value(draft["text"])
    with_urls = [c for c in draft["citations"] if c.get("url")]
    assert with_urls
    links = page.locator("#draft-citations a")
    expect(links).to_have_count(len(with_urls))
    assert links.evaluate_all("(as) => as.map((a) => a.href)") == [c["url"] for c in with_urls]
    page.screenshot(path=tmp_path / "console-ticket.png", full_page=True)

    edited = draft["text"] + SIGN_OFF
    page.get_by_label("Draft reply text").fill(edited)
    page.get_by_role("button", name="Approve & send").click()

    # The outbox worker delivers it; the console follows the ticket to "sent".
    expect(page.locator("#ticket-status")).to_have_text(re.compile("approved|sent"))
    expect(page.locator("#ticket-status")).to_have_text("sent", timeout=15_000)
    audit = page.locator("#audit-body")
    for action in ("ticket_created", "draft_added", "draft_approved", "reply_sent"):
        expect(audit.locator(f'tr[data-action="{action}"]')).to_have_count(1)
    expect(audit.locator('tr[data-action="draft_approved"]')).to_contain_text("ana")
    expect(item).to_have_count(0)  # no longer waiting for review
    page.screenshot(path=tmp_path / "console-sent.png", full_page=True)

    with app.api() as api:
        final = api.get(f"/v1/tickets/{ticket['id']}").json()
    assert final["status"] == "sent"
    assert final["draft"]["final_text"] == edited
    assert final["draft"]["approved_by"].endswith(":ana")  # token id, then its name
    errors.assert_clean()
