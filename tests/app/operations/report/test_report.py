"""`triage report weekly` on the demo history: Markdown with its PNG charts, and the
metrics it reads agree with the conversation view."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli.operations import register
from app.conversations.policy import load_sla_policy
from app.conversations.view import load
from app.operations.forecasting.staffing import load_staffing_policy
from app.operations.report import store_reads as metrics
from app.operations.report.markdown import write_report
from app.operations.report.weekly import build_report
from app.store import create_engine_for, session_factory, tickets
from app.store.models import Ticket
from tests.app.operations.conftest import END, WrittenHistory

pytestmark = pytest.mark.slow

PNG = b"\x89PNG\r\n\x1a\n"
WEEK = END - timedelta(days=7)


def test_the_report_writes_markdown_and_its_charts(
    demo_history: WrittenHistory, tmp_path: Path
) -> None:
    engine = create_engine_for(demo_history.url)
    try:
        with session_factory(engine)() as session:
            report = build_report(
                session,
                week=WEEK,
                sla_policy=load_sla_policy(),
                staffing_policy=load_staffing_policy(),
            )
    finally:
        engine.dispose()
    written = write_report(report, tmp_path / "report")
    markdown = (tmp_path / "report" / "report.md").read_text("utf-8")
    for heading in (
        "## Volume and forecast",
        "## SLA attainment",
        "## Draft acceptance",
        "## Staffing for next week",
    ):
        assert heading in markdown
    assert "Demo data" in markdown
    for chart in written["charts"]:
        path = Path(chart)
        assert path.read_bytes()[:8] == PNG
        assert f"]({path.name})" in markdown, f"{path.name} is not embedded"
    assert report.this_week_total == sum(report.daily_totals[-7:]) > 0
    assert len(report.staffing.hours) == 7
    assert all(len(day) == 24 for day in report.staffing.hours)
    assert report.staffing.handle.measured > 0
    total = report.total_next_week
    assert total.lower <= total.point <= total.upper


def test_the_cli_prints_one_json_document(
    demo_history: WrittenHistory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(demo_history.settings.data_dir))
    monkeypatch.setenv("TRIAGE_DATABASE_URL", demo_history.url)
    app = typer.Typer()
    register(app)
    out = tmp_path / "weekly"
    result = CliRunner().invoke(
        app, ["report", "weekly", "--out", str(out), "--week", str(WEEK), "--json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["week"] == WEEK.isoformat()
    assert document["demo"] is True
    assert (out / "report.md").is_file()
    assert len(document["charts"]) == 5


def test_sla_read_in_bulk_matches_the_conversation_view(demo_history: WrittenHistory) -> None:
    policy = load_sla_policy()
    now = metrics.midnight(END)
    engine = create_engine_for(demo_history.url)
    try:
        with session_factory(engine)() as session:
            rows = metrics.load_tickets(session, END - timedelta(days=14), END)
            outcomes = {o.ticket_id: o for o in metrics.sla_outcomes(session, rows, policy, now)}
            ids = list(session.scalars(select(Ticket.id)))
            for ticket_id in ids[:: max(len(ids) // 25, 1)]:
                ticket = tickets.get_ticket(session, ticket_id)
                expected = load(session, ticket, policy, now).sla
                assert outcomes[ticket_id].state == expected, ticket_id
    finally:
        engine.dispose()
