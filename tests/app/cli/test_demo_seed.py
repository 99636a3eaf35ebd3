"""`triage demo seed` on a real ingested sample, a real database and the real services:
a working agent token and the sample conversations (a Slack thread with a follow-up
re-drafted with its history, a /help hand-off with the developer's email, a P1 incident
reported twice and linked, a solved one); a second run creates nothing again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli.demo_seed import register
from app.conversations.policy import load_sla_policy
from app.conversations.view import load
from app.services.runtime import Pipeline
from app.settings import Settings
from app.store import api_tokens, contacts
from app.store import tickets as ticket_store
from app.store.db import create_engine_for, session_factory
from app.store.models import ApiToken, Ticket
from tests.api.conftest import api_corpus, kb, kb_settings, pipeline

__all__ = ["api_corpus", "kb", "kb_settings", "pipeline"]


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def _seed(runner: CliRunner) -> dict[str, Any]:
    result = runner.invoke(_cli(), ["demo", "seed", "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.fixture
def demo_env(
    kb_settings: Settings, pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The ingested sample's data dir, a fresh database; returns the database URL."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(kb_settings.data_dir))
    monkeypatch.setenv("TRIAGE_MODELS_DIR", str(kb_settings.models_dir))
    monkeypatch.setenv("TRIAGE_DATABASE_URL", url)
    return url


def test_seed_prints_a_working_token_and_creates_the_samples_once(demo_env: str) -> None:
    runner = CliRunner()
    first = _seed(runner)
    assert first["token"].startswith("trg_")
    assert first["name"] == "demo-agent"
    assert first["answered"] == [], "the /help sample is handed off, not answered"
    created = first["created"]
    assert set(created) == {
        "slack-webhook-signature",
        "help-invoice-charged-twice",
        "payouts-outage",
        "payouts-outage-second-report",
        "sandbox-payouts-solved",
    }
    assert first["help_conversation_url"].startswith("http://127.0.0.1:8000/help/c/")

    engine = create_engine_for(demo_env)
    sessions = session_factory(engine)
    policy = load_sla_policy()
    try:
        with sessions() as session:
            assert api_tokens.authenticate(session, first["token"]) is not None

            def conversation(sample: str) -> Any:
                ticket = ticket_store.get_ticket(session, created[sample])
                return load(session, ticket, policy, ticket.created_at)

            # The thread: question, reply sent, follow-up; v2 drafted with the history.
            slack = conversation("slack-webhook-signature")
            assert slack.ticket.channel == "slack"
            kinds = [m.kind for m in slack.messages if m.kind != "system"]
            assert kinds == ["customer", "note", "agent", "customer"]
            assert slack.ticket.status == "pending_review"
            assert [d.status for d in slack.ticket.drafts] == ["sent", "pending"]
            assert slack.assignee == "demo-agent"

            handed = conversation("help-invoice-charged-twice")
            assert handed.ticket.channel == "widget"
            contact = contacts.of_ticket(session, handed.ticket.id)
            assert contact is not None
            assert contact.email == "ada@acme.example"

            outage = conversation("payouts-outage")
            assert outage.ticket.priority == "P1"
            second = created["payouts-outage-second-report"]
            assert outage.linked == [(second, "incident")]

            solved = conversation("sandbox-payouts-solved")
            assert solved.ticket.status == "solved"
            assert [m.kind for m in solved.messages if m.kind != "system"] == [
                "customer",
                "agent",
            ]
            tickets_before = session.scalar(select(func.count()).select_from(Ticket))

        # Again: nothing created twice; a new token, the earlier one revoked.
        again = _seed(runner)
        assert again["created"] == {}
        assert again["skipped"] == created
        assert again["help_conversation_url"] is None
        assert again["token"] != first["token"]
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(Ticket)) == tickets_before
            assert api_tokens.authenticate(session, first["token"]) is None
            assert api_tokens.authenticate(session, again["token"]) is not None
            active = session.scalars(select(ApiToken.name).where(ApiToken.revoked_at.is_(None)))
            assert list(active) == [again["name"]]
    finally:
        engine.dispose()


def test_seed_without_an_ingested_collection_says_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(tmp_path / "empty"))
    result = CliRunner().invoke(_cli(), ["demo", "seed"])
    assert result.exit_code != 0
    assert "triage ingest" in str(result.exception or result.output)
