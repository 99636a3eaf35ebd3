"""The help page against the real service: a Grid question answered with its sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import PageErrors, StartApp

# Answered above the drafter's own hand-off floor by the small sample index.
QUESTION = "When do I need a quote?"


def test_a_grid_question_is_answered_with_cited_links_then_rate_limited(
    start_app: StartApp, browser_context: tuple[Any, PageErrors], tmp_path: Path
) -> None:
    # The page is under test, not the answer threshold: show any grounded draft.
    app = start_app(public_ask_rate_per_minute=1, ask_answer_min_confidence=0.0)
    context, errors = browser_context
    page = context.new_page()
    page.goto(app.url + "/help")
    page.get_by_label("Your question").fill(QUESTION)
    page.get_by_role("button", name="Ask").click()

    answer = page.locator("#answer")
    expect(answer).to_be_visible(timeout=30_000)
    expect(page.locator("#result")).to_have_attribute("data-handed-off", "false")
    expect(answer).to_contain_text("quote")
    links = page.locator("#sources a")
    expect(links.first).to_be_visible()
    hrefs = links.evaluate_all("(as) => as.map((a) => a.href)")
    assert any("/core-concepts/quote-system" in h for h in hrefs), hrefs
    assert all(h.startswith("https://") for h in hrefs), hrefs
    # One numbering: every [n] in the answer links to the n-th listed source, and the
    # sources are listed once (under the answer), not again inside it.
    markers = page.locator("#answer a.cite").evaluate_all(
        "(as) => as.map((a) => a.getAttribute('href'))"
    )
    sources = page.locator("#sources > li").count()
    assert markers, "the answer cites nothing"
    assert set(markers) <= {f"#source-{n}" for n in range(1, sources + 1)}
    assert "Sources:" not in (answer.text_content() or "")
    page.screenshot(path=tmp_path / "help-answer.png", full_page=True)

    # One question per minute in this app: the next one is refused, and says so.
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#ask-error")).to_contain_text("You are asking too quickly")
    expect(answer).to_be_visible()  # the previous answer stays
    page.screenshot(path=tmp_path / "help-429.png", full_page=True)
    errors.assert_clean()
