"""The knowledge-gap page against the real service in headless Chromium: ranked gaps with
their kind, examples shown as text, links to the tickets, calibration and auto-send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from sqlalchemy.orm import Session, sessionmaker

from app.store import reviews, tickets
from tests.web.conftest import PageErrors, StartApp

UNDOCUMENTED = [
    "Our vendor-risk team needs your SOC 2 Type II report, where can we download it?",
    "Where can we download your SOC 2 Type II report? Our vendor-risk team needs it. "
    "<img src=x onerror=alert(1)>",
    "Can you send us the SOC 2 Type II report our vendor-risk team needs?",
]
MISSED = "every call returns 401 Unauthorized, how do I send the client id and secret?"


def _ticket(session: Session, message: str, category: str, at: datetime) -> str:
    ticket = tickets.create_ticket(
        session,
        channel="api",
        reporter=None,
        message=message,
        triage={"category": category, "priority": "P3", "team": "platform"},
        now=at,
    )
    return ticket.id


def seed(sessions: sessionmaker[Session]) -> list[str]:
    """Three undocumented hand-offs, one rejected draft, and verdicts for calibration."""
    at = datetime.now(UTC) - timedelta(days=1)
    handed_off = []
    with sessions.begin() as s:
        for message in UNDOCUMENTED:
            ticket_id = _ticket(s, message, "other", at)
            tickets.add_draft(
                s,
                ticket_id,
                text="A person will answer.",
                confidence=0.0,
                needs_human=True,
                reason="insufficient_documentation",
                now=at,
            )
            handed_off.append(ticket_id)
        for confidence, verdict in ((0.9, "approve"), (0.85, "approve"), (0.7, "reject")):
            ticket_id = _ticket(s, MISSED, "auth_api_access", at)
            draft = tickets.add_draft(
                s, ticket_id, text="Use OAuth.", confidence=confidence, needs_human=False, now=at
            )
            if verdict == "approve":
                reviews.approve(s, draft.id, reviewer="ana", now=at)
            else:
                reviews.reject(s, draft.id, reviewer="ana", reason_code="inaccurate", now=at)
    return handed_off


def test_gaps_page_ranks_gaps_and_links_each_to_its_tickets(
    start_app: StartApp, browser_context: tuple[Any, PageErrors], tmp_path: Path
) -> None:
    policy = tmp_path / "autosend.yaml"
    policy.write_text(
        "defaults: {threshold: 0.8, min_reviews: 20, target_precision: 0.95, "
        "review_sample_rate: 0.1}\ncategories:\n  auth_api_access: {}\n"
    )
    app = start_app(auto_send_policy_path=policy)
    handed_off = seed(app.sessions)

    context, errors = browser_context
    page = context.new_page()
    page.goto(app.url + "/console")
    page.get_by_label("Agent token").fill(app.agent_token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Knowledge gaps").click()

    gaps = page.locator("#gap-list > li")
    expect(gaps.first).to_be_visible()
    first = gaps.first
    # Named by its own questions' words.
    words = first.locator(".gap-topic").inner_text().replace(",", " ").split()
    assert words
    assert all(any(w in q.lower() for q in UNDOCUMENTED) for w in words), words
    expect(first.locator(".kind")).to_have_text("Docs gap")
    expect(first.locator(".gap-count")).to_have_text("3 questions")
    expect(first).to_contain_text("3 handed off")
    # Customer text is shown as text, never as markup.
    expect(first.locator(".example", has_text="<img src=x onerror=alert(1)>")).to_have_count(1)
    expect(first.locator("img")).to_have_count(0)
    links = first.locator("a.ticket-link")
    expect(links).to_have_count(3)
    assert set(links.all_inner_texts()) == set(handed_off)
    expect(gaps.nth(1)).to_contain_text("1 rejected draft")
    expect(page.locator("#gaps-summary")).to_contain_text("4 question(s)")

    expect(page.locator('figure.diagram[data-category="auth_api_access"]')).to_be_visible()
    expect(page.locator('figure.diagram[data-category="all"]')).to_contain_text("3 verdicts")
    row = page.locator('#autosend tr[data-category="auth_api_access"]')
    expect(row).to_contain_text("shadow")
    page.screenshot(path=tmp_path / "gaps.png", full_page=True)

    target = links.first.inner_text()
    links.first.click()
    expect(page.locator("#ticket-title")).to_have_text(target)
    errors.assert_clean()
