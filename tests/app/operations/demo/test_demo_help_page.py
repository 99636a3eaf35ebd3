"""The demo history's help-page traffic: questions asked through the ask service with an
asker id, answered or handed off by its own rule, verdicts and returning askers, so the
stats' self-service figures (answered, handed off, deflected) are filled."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.operations.demo.config import load_demo_config
from app.operations.metrics.stats import StatsService
from app.store import create_engine_for
from app.store.askers import AskerTicket
from app.store.models import Ticket
from app.store.self_service import SelfServiceAnswer
from tests.app.operations.conftest import DAYS, END, WrittenHistory, read_store, small_config

pytestmark = pytest.mark.slow


def _stats(history: WrittenHistory) -> Any:
    engine = create_engine_for(history.url)
    try:
        end = datetime.combine(END, datetime.min.time(), tzinfo=UTC)
        stats = StatsService(engine, refresh_limit=0).stats(
            end - timedelta(days=DAYS), end, "week", now=end
        )
    finally:
        engine.dispose()
    return stats.totals.self_service


def test_the_stats_show_answers_hand_offs_and_deflection(demo_history: WrittenHistory) -> None:
    self_service = _stats(demo_history)
    report = demo_history.report
    assert self_service is not None
    assert self_service.answered == report.help_answered > 0
    assert self_service.handed_off == report.help_questions - report.help_answered > 0
    assert self_service.helpful + self_service.didnt_help > 0
    # Every answer came from a browser with an asker id; the last window is still open.
    assert self_service.asker_known == self_service.answered
    assert 0 < self_service.deflected <= self_service.settled <= self_service.answered
    assert self_service.deflection_rate is not None


def test_help_page_questions_went_through_the_ask_service(demo_history: WrittenHistory) -> None:
    def look(session: Session) -> dict[str, Any]:
        helped = [
            t for t in session.scalars(select(Ticket)) if t.meta.get("demo", {}).get("help_page")
        ]
        return {
            "tickets": [(t.channel, t.meta.get("source")) for t in helped],
            "came_back": sum("came_back_after" in t.meta["demo"] for t in helped),
            "askers": set(session.scalars(select(AskerTicket.ticket_id))),
            "helped_ids": {t.id for t in helped},
            "answers": list(session.scalars(select(SelfServiceAnswer))),
        }

    seen = read_store(demo_history.url, look)
    report = demo_history.report
    # Handed off as /v1/ask does: widget tickets from source "ask", each recorded against
    # its asker's keyed hash, and labelled as demo data like every other ticket.
    assert set(seen["tickets"]) == {("widget", "ask")}
    assert seen["askers"] == seen["helped_ids"]
    assert seen["came_back"] == report.help_came_back > 0
    # Answers: the asker kept only as a 64-hex keyed hash, never the browser id itself.
    help_page = small_config().self_service
    assert help_page is not None
    threshold = help_page.answer_min_confidence
    for answer in seen["answers"]:
        assert answer.asker_key is not None
        assert len(answer.asker_key) == 64
        assert "demo-browser" not in answer.asker_key
        assert answer.confidence >= threshold
    verdicts = Counter(a.feedback for a in seen["answers"])
    ops = report.operations
    assert verdicts["helpful"] == ops["feedback_helpful"]
    assert verdicts["not_helpful"] == ops["feedback_not_helpful"]
    assert ops["ask_unplanned_outcome"] == 0


def test_a_config_without_the_help_page_still_loads(tmp_path: Path) -> None:
    """A --config written before the help page's section: no help-page traffic."""
    builtin = yaml.safe_load(
        resources.files("app.operations.demo").joinpath("history.yaml").read_text()
    )
    del builtin["self_service"]
    path = tmp_path / "history.yaml"
    path.write_text(yaml.safe_dump(builtin))
    assert load_demo_config(path).self_service is None
