"""The help page's "did this help?" on a shown answer, against the real service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from app.store.self_service import SelfServiceAnswer
from tests.web.conftest import PageErrors, StartApp

# Answered above the drafter's own hand-off floor by the small sample index.
QUESTION = "When do I need a quote?"


def test_the_asker_says_an_answer_did_not_help_and_it_is_recorded(
    start_app: StartApp, browser_context: tuple[Any, PageErrors], tmp_path: Path
) -> None:
    app = start_app(ask_answer_min_confidence=0.0)
    context, errors = browser_context
    page = context.new_page()
    page.goto(app.url + "/help")
    page.get_by_label("Your question").fill(QUESTION)
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#answer")).to_be_visible(timeout=30_000)

    feedback = page.get_by_role("group", name="Did this answer help?")
    expect(feedback).to_be_visible()
    feedback.get_by_role("button", name="No").click()
    expect(page.locator("#feedback-status")).to_contain_text("improve the documentation")
    expect(feedback.get_by_role("button", name="No")).to_have_attribute("aria-pressed", "true")
    page.screenshot(path=tmp_path / "help-feedback.png", full_page=True)

    with app.sessions() as session:
        [shown] = session.scalars(select(SelfServiceAnswer)).all()
    assert shown.question == QUESTION
    assert shown.feedback == "not_helpful"

    # A new question hides the previous answer's verdict until it is answered.
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#feedback-status")).to_have_text("", timeout=30_000)
    errors.assert_clean()
