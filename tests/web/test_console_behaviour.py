"""Console behaviour the happy path cannot show: retries, paging, hostile text, keys."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import LiveServer, PageErrors
from tests.web.stub_api import TOKEN, Scripted, StubApi, ticket


@pytest.fixture
def console(browser_context: tuple[Any, PageErrors]) -> tuple[Page, PageErrors]:
    context, errors = browser_context
    return context.new_page(), errors


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/console")
    page.get_by_label("Agent token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()


def test_a_retried_approval_reuses_its_idempotency_key(console: tuple[Page, PageErrors]) -> None:
    page, errors = console
    stub = StubApi([ticket(1)])
    stub.approve_script.append(Scripted(503, {"detail": "The database is busy; retry."}))
    with LiveServer(stub.app()) as server:
        sign_in(page, server.url)
        page.locator(".queue-item").first.click()
        approve = page.get_by_role("button", name="Approve & send")

        approve.click()
        expect(page.get_by_role("alert").filter(has_text="busy")).to_contain_text(
            "The database is busy; retry."
        )
        approve.click()
        expect(page.locator("#ticket-status")).to_have_text("approved")

    (first_key, first_body), (second_key, second_body) = stub.approvals
    assert first_key == second_key
    assert uuid.UUID(str(first_key)).version == 4
    assert first_body == second_body == {"expected_version": 1}
    expect(page.locator("#banner")).to_be_hidden()
    errors.assert_clean()


def test_changing_the_text_after_a_failure_is_a_new_decision(
    console: tuple[Page, PageErrors],
) -> None:
    page, errors = console
    stub = StubApi([ticket(1)])
    stub.approve_script.append(Scripted(503, {"detail": "The database is busy; retry."}))
    with LiveServer(stub.app()) as server:
        sign_in(page, server.url)
        page.locator(".queue-item").first.click()
        page.get_by_role("button", name="Approve & send").click()
        expect(page.locator("#banner")).to_be_visible()

        page.get_by_label("Draft reply text").fill("Use HTTP Basic auth with your key pair.")
        expect(page.locator("#draft-edited")).to_contain_text("Edited")
        page.get_by_role("button", name="Approve & send").click()
        expect(page.locator("#ticket-status")).to_have_text("approved")

    (first_key, _), (second_key, second_body) = stub.approvals
    assert first_key != second_key
    assert second_body == {"text": "Use HTTP Basic auth with your key pair.", "expected_version": 1}
    errors.assert_clean()


def test_queue_filters_and_loads_more_by_cursor(console: tuple[Page, PageErrors]) -> None:
    page, errors = console
    tickets = [ticket(n, priority="P1" if n <= 3 else "P3") for n in range(1, 31)]
    stub = StubApi(tickets)
    with LiveServer(stub.app()) as server:
        sign_in(page, server.url)
        expect(page.locator(".queue-item")).to_have_count(25)
        page.get_by_role("button", name="Load more").click()
        expect(page.locator(".queue-item")).to_have_count(30)
        expect(page.get_by_role("button", name="Load more")).to_be_hidden()
        assert stub.queue_queries[-1]["cursor"] == "25"

        page.get_by_label("Priority", exact=True).select_option("P1")
        page.get_by_role("button", name="Apply").click()
        expect(page.locator(".queue-item")).to_have_count(3)
        assert stub.queue_queries[-1] == {
            "limit": "25",
            "status": "pending_review",
            "priority": "P1",
        }

        # Keyboard: j moves through the queue, Enter opens the focused ticket.
        page.locator("body").click()
        page.keyboard.press("j")
        page.keyboard.press("j")
        page.keyboard.press("Enter")
        expect(page.locator("#ticket-title")).to_have_text("tkt_0002")
    errors.assert_clean()


def test_hostile_text_is_shown_not_run(console: tuple[Page, PageErrors]) -> None:
    page, errors = console
    evil = ticket(1, message='<img src=x onerror="window.pwned=1">hello')
    evil["draft"]["citations"] = [
        {"chunk_id": "c", "doc_id": "d", "source": "evil.md", "url": "javascript:window.pwned=2"}
    ]
    stub = StubApi([evil])
    with LiveServer(stub.app()) as server:
        sign_in(page, server.url)
        page.locator(".queue-item").first.click()
        expect(page.locator("#ticket-message")).to_have_text(
            '<img src=x onerror="window.pwned=1">hello'
        )
        expect(page.locator("#draft-citations")).to_contain_text("evil.md")
        assert page.locator("#draft-citations a").count() == 0
        assert page.evaluate("window.pwned") is None
    errors.assert_clean()


def test_reject_with_other_needs_a_note(console: tuple[Page, PageErrors]) -> None:
    page, errors = console
    stub = StubApi([ticket(1)])
    with LiveServer(stub.app()) as server:
        sign_in(page, server.url)
        page.locator(".queue-item").first.click()
        page.get_by_label("Reason", exact=True).first.select_option("other")
        page.get_by_role("button", name="Reject").click()
        expect(page.locator("#banner")).to_contain_text("Add a note")
    errors.assert_clean()


def test_a_flagged_draft_is_sent_only_after_confirmation(
    console: tuple[Page, PageErrors],
) -> None:
    page, errors = console
    flagged = ticket(1)
    flagged["triage"] = {**flagged["triage"], "flags": ["secret", "sandbox"]}
    stub = StubApi([flagged])
    with LiveServer(stub.app()) as server:
        sign_in(page, server.url)
        page.locator(".queue-item").first.click()
        expect(page.get_by_label("Draft reply text")).to_be_enabled()
        expect(page.locator("#ticket-title")).to_have_text("tkt_0001")
        page.get_by_label("Draft reply text").press("Control+Enter")
        expect(page.locator("#confirm-dialog")).to_be_visible()
        page.get_by_role("button", name="Cancel").click()
        expect(page.locator("#confirm-dialog")).to_be_hidden()
        assert stub.approvals == []

        page.get_by_role("button", name="Approve & send").click()
        page.locator("#confirm-send").click()
        expect(page.locator("#ticket-status")).to_have_text("approved")
    assert len(stub.approvals) == 1
    errors.assert_clean()


def test_the_drafters_checks_are_listed_for_the_reviewer(
    console: tuple[Page, PageErrors],
) -> None:
    page, errors = console
    checked = ticket(1)
    checked["draft"]["checks"] = {
        "sentences_checked": 3,
        "unsupported_sentences": ["Quotes never expire."],
        "unverifiable_sentences": [],
        "unknown_api_names": ["POST /quotes/{quoteId}/renew"],
        "rejected": None,
    }
    plain = ticket(2)
    plain["draft"]["checks"] = None
    stub = StubApi([checked, plain])
    with LiveServer(stub.app()) as server:
        sign_in(page, server.url)
        page.locator(".queue-item").nth(0).click()
        expect(page.locator("#ticket-title")).to_have_text("tkt_0001")
        checks = page.locator("#draft-checks li")
        expect(checks).to_have_count(2)
        expect(checks.nth(0)).to_contain_text("Quotes never expire.")
        expect(checks.nth(1)).to_contain_text("POST /quotes/{quoteId}/renew")
        page.locator(".queue-item").nth(1).click()
        expect(page.locator("#ticket-title")).to_have_text("tkt_0002")
        expect(page.locator("#draft-checks-box")).to_be_hidden()
    errors.assert_clean()
