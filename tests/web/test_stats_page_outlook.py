"""The stats page's slower parts in headless Chromium against the real service: the
volume forecast beside the history (or why there is none), the top knowledge gaps
linked to the gap view, and the calibration of draft confidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.app.operations.volume_history import add_volume, weekly_pattern
from tests.web.conftest import LiveApp, PageErrors, StartApp
from tests.web.test_gaps_page import seed


def _open(app: LiveApp, context: Any) -> Any:
    page = context.new_page()
    page.goto(app.url + "/console/stats")
    page.get_by_label("Agent token").fill(app.agent_token)
    page.get_by_role("button", name="Sign in").click()
    return page


def test_forecast_gaps_and_calibration_render(
    start_app: StartApp, browser_context: tuple[Any, PageErrors], tmp_path: Path
) -> None:
    app = start_app()
    first = datetime.now(UTC).date() - timedelta(days=28)
    with app.sessions.begin() as session:
        add_volume(session, first, weekly_pattern(first, 28))
    seed(app.sessions)  # three undocumented hand-offs, a rejected draft, three verdicts

    context, errors = browser_context
    page = _open(app, context)

    chart = page.locator("#volume-chart")
    expect(page.locator("#forecast-note")).to_have_attribute("data-state", "ok")
    expect(chart.locator("circle.forecast-point")).to_have_count(14)
    expect(chart.locator("polygon.forecast-band")).to_have_count(1)
    expect(chart.locator("rect.bar")).to_have_count(30)  # the period's days, as before
    days = chart.locator("circle.forecast-point").evaluate_all(
        "dots => dots.map(d => d.getAttribute('data-forecast-day'))"
    )
    today = datetime.now(UTC).date()
    assert days == [(today + timedelta(days=i)).isoformat() for i in range(14)]

    gaps = page.locator("#top-gaps > li")
    expect(gaps).to_have_count(2)
    expect(gaps.first.locator(".top-gap-count")).to_have_attribute("data-count", "3")
    expect(gaps.first).to_have_attribute("data-kind", "docs_gap")
    expect(gaps.first.locator("[data-trend]")).to_have_attribute("data-trend", "new")

    expect(page.locator("#calibration-verdicts")).to_have_text("3")
    expect(page.locator("#calibration-ece")).not_to_have_text("–")
    expect(page.locator("#calibration-chart rect.bar")).not_to_have_count(0)
    expect(
        page.locator('#calibration-categories tr[data-category="auth_api_access"]')
    ).to_be_visible()
    page.screenshot(path=tmp_path / "stats-outlook.png", full_page=True)

    # The gap's link opens the gap view over the same period, at that gap.
    topic = gaps.first.locator("a").inner_text()
    gaps.first.locator("a").click()
    expect(page).to_have_url(
        app.url + f"/console/gaps?since={(today - timedelta(days=29)).isoformat()}#gap-1"
    )
    expect(page.locator("#gap-1 .gap-topic")).to_have_text(topic)
    expect(page.locator("#gap-1")).to_be_in_viewport()
    errors.assert_clean()


def test_a_short_history_says_there_is_no_forecast_yet(
    start_app: StartApp, browser_context: tuple[Any, PageErrors]
) -> None:
    app = start_app()
    first = datetime.now(UTC).date() - timedelta(days=3)
    with app.sessions.begin() as session:
        add_volume(session, first, [5, 6, 7, 2])

    context, errors = browser_context
    page = _open(app, context)

    expect(page.locator("#forecast-note")).to_have_attribute("data-state", "short_history")
    expect(page.locator("#forecast-note")).not_to_be_empty()
    expect(page.locator("#volume-chart circle.forecast-point")).to_have_count(0)
    expect(page.locator("#volume-total")).to_have_text("20")
    expect(page.locator("#gaps-status")).to_have_attribute("data-state", "empty")
    expect(page.locator("#top-gaps > li")).to_have_count(0)
    expect(page.locator("#calibration-status")).to_have_attribute("data-state", "empty")
    errors.assert_clean()
