"""The support stats page in headless Chromium against the real service: tickets made
and decided through the API show up as volume, SLA and the acceptance funnel."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import PageErrors, StartApp

QUESTIONS = (
    "Our sandbox calls return 401 Unauthorized. How do we authenticate API requests?",
    "How do I test payouts in the sandbox before going live?",
)


def _decide(api: Any, draft_id: str, decision: str, body: dict[str, Any]) -> None:
    response = api.post(
        f"/v1/drafts/{draft_id}/{decision}",
        json=body,
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 200, response.text


def test_stats_page_charts_what_happened(
    start_app: StartApp, browser_context: tuple[Any, PageErrors], tmp_path: Path
) -> None:
    app = start_app()
    with app.api() as api:
        tickets = []
        for question in QUESTIONS:
            created = api.post("/v1/tickets", json={"message": question})
            assert created.status_code == 201, created.text
            tickets.append(created.json())
        _decide(api, tickets[0]["draft"]["id"], "approve", {"text": "Use client credentials."})
        _decide(api, tickets[1]["draft"]["id"], "reject", {"reason_code": "incomplete"})

    context, errors = browser_context
    page = context.new_page()
    page.goto(app.url + "/console/stats")
    page.get_by_label("Agent token").fill(app.agent_token)
    page.get_by_role("button", name="Sign in").click()

    expect(page.locator("#volume-total")).to_have_text("2")
    expect(page.locator("#volume-chart rect.bar")).to_have_count(30)  # one per day
    expect(page.locator("#acceptance-rate")).to_have_text("50 %")
    funnel = page.locator("#funnel-chart")
    for step, count in (("written", "2"), ("reviewed", "2"), ("approved", "1"), ("rejected", "1")):
        expect(funnel.locator(f'text[data-count="{step}"]')).to_have_text(count)
    expect(page.locator("#timings-body tr")).to_have_count(4)
    expect(page.locator("#timings-body tr").first).to_contain_text("first draft")
    expect(page.locator("#sla-clocks dd").first).to_have_text("2")  # tracked tickets
    expect(page.locator("#sla-total")).to_have_text("100 %")  # nothing late yet
    expect(page.locator("#sla-chart rect.bar-met")).to_have_count(1)  # today
    page.screenshot(path=tmp_path / "stats.png", full_page=True)

    # Another period asks again; a token that stops working returns to the sign-in.
    page.get_by_label("Period").select_option("7")
    expect(page.locator("#volume-chart rect.bar")).to_have_count(7)
    page.evaluate("sessionStorage.setItem('triage.console.token', 'trg_revoked')")
    page.get_by_label("Period").select_option("30")
    expect(page.locator("#login-error")).to_have_text("The API token is unknown or revoked.")
    errors.assert_clean()


def test_stats_page_shows_deflection_and_business_hours(
    start_app: StartApp, browser_context: tuple[Any, PageErrors]
) -> None:
    from datetime import UTC, datetime, time, timedelta

    from app.settings import BusinessHoursSetting
    from app.store import askers, self_service
    from tests.app.operations.metric_fixture import _ticket

    hours = BusinessHoursSetting(timezone="UTC", days=(0, 1, 2, 3, 4), start=time(9), end=time(17))
    app = start_app(business_hours=hours)
    # Three answers five days ago (their 72 h windows have passed): browser-a opened no
    # ticket (deflected), browser-b opened one a day later, browser-c said it didn't help.
    answered_at = datetime.now(UTC) - timedelta(days=5)
    with app.sessions.begin() as session:
        for asker, feedback in (("a", None), ("b", None), ("c", "not_helpful")):
            row = self_service.record_answer(
                session, question="q", answer="a", citations=[], confidence=0.9,
                category="auth", language="en", now=answered_at,
                asker_key=askers.asker_key(session, f"browser-{asker}"),
            )  # fmt: skip
            if feedback:
                self_service.give_feedback(session, row.id, feedback, now=answered_at)  # type: ignore[arg-type]
        later = answered_at + timedelta(days=1)
        session.add(
            _ticket(
                "tkt_from_b",
                later,
                channel="widget",
                category="auth",
                priority="P3",
                team=None,
                status="pending_review",
                triage={},
                metadata={"source": "ask"},
            )
        )
        session.flush()
        key = askers.asker_key(session, "browser-b")
        assert key is not None
        askers.record_ticket(session, "tkt_from_b", key, later)

    context, errors = browser_context
    page = context.new_page()
    page.goto(app.url + "/console/stats")
    page.get_by_label("Agent token").fill(app.agent_token)
    page.get_by_role("button", name="Sign in").click()

    expect(page.locator("#deflection-rate")).to_have_text("33.3 %")
    chart = page.locator("#deflection-chart")
    for step, count in (("answered", "3"), ("handed off", "1"), ("helpful", "0"),
                        ("didn't help", "1"), ("settled", "3"), ("deflected", "1")):  # fmt: skip
        expect(chart.locator(f'text[data-count="{step}"]')).to_have_text(count)
    expect(page.locator("th.business").first).to_be_visible()
    expect(page.locator("#timings-body tr").first.locator("td")).to_have_count(6)
    expect(page.locator("#draft-cost")).to_contain_text("not known")
    errors.assert_clean()
