"""`triage eval export-reviews`: reviewed drafts in the store become an eval dataset."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app.store import reviews, tickets
from app.store.db import create_engine_for, migrate, session_factory
from app.store.models import Ticket
from evals.datasets.loader import load_jsonl
from evals.datasets.review_export import export_reviews, parse_since
from tests.app.cli.test_eval_cmd import invoke

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    engine = create_engine_for(url)
    migrate(engine)
    engine.dispose()
    return url


@pytest.fixture
def sessions(store_url: str) -> sessionmaker[Session]:
    return session_factory(create_engine_for(store_url))


def _ticket(
    sessions: sessionmaker[Session], message: str, category: str, draft: str, *, at: datetime
) -> tuple[str, str]:
    with sessions.begin() as s:
        ticket = tickets.create_ticket(
            s,
            channel="slack",
            reporter="dev@example.com",
            message=message,
            triage={
                "category": category,
                "priority": "P3",
                "team": "t",
                "language": "en",
                "flags": ["low_confidence"],
            },
            now=at,
        )
        created = tickets.add_draft(
            s,
            ticket.id,
            text=draft,
            citations=[
                {
                    "chunk_id": "a#0",
                    "doc_id": "docs/guides/api-reference/authentication",
                    "quote": "Basic",
                },
                {
                    "chunk_id": "a#1",
                    "doc_id": "docs/guides/api-reference/authentication",
                    "quote": "token",
                },
                {
                    "chunk_id": "e#0",
                    "doc_id": "docs/guides/api-reference/environments",
                    "quote": "sandbox",
                },
            ],
            confidence=0.7,
            needs_human=False,
            now=at,
        )
        return ticket.id, created.id


@pytest.fixture
def populated(sessions: sessionmaker[Session]) -> dict[str, str]:
    ids: dict[str, str] = {}
    _, ids["approved"] = _ticket(sessions, "How do I auth?", "auth_api_access", "Use Basic.", at=T0)
    _, ids["edited"] = _ticket(sessions, "Sandbox host?", "auth_api_access", "Same host.", at=T0)
    recat_ticket, ids["recat"] = _ticket(
        sessions, "Webhook retries?", "api_errors", "Retries back off.", at=T0
    )
    _, ids["rejected"] = _ticket(sessions, "Refund my payout", "fees_limits", "Fees are…", at=T0)
    _, ids["pending"] = _ticket(sessions, "Still open", "other", "Not reviewed yet.", at=T0)
    _, ids["late"] = _ticket(sessions, "Later question", "cards", "Card answer.", at=T0)
    with sessions.begin() as s:
        reviews.approve(s, ids["approved"], reviewer="ana", now=T0 + timedelta(hours=1))
        reviews.approve(
            s,
            ids["edited"],
            reviewer="ana",
            text="Sandbox and production share one host.",
            now=T0 + timedelta(hours=1),
        )
        # An agent re-routed this ticket: its category now differs from the triage's.
        s.execute(update(Ticket).where(Ticket.id == recat_ticket).values(category="webhooks"))
        reviews.approve(s, ids["recat"], reviewer="bo", now=T0 + timedelta(hours=2))
        reviews.reject(
            s,
            ids["rejected"],
            reviewer="bo",
            reason_code="policy",
            reason="refunds go to finance",
            now=T0 + timedelta(hours=3),
        )
        reviews.approve(s, ids["late"], reviewer="bo", now=T0 + timedelta(days=10))
    return ids


def test_export_turns_decisions_into_rows(
    store_url: str, populated: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "out" / "reviews.jsonl"
    summary = export_reviews(store_url, out)

    assert (summary.rows, summary.positives, summary.negatives) == (5, 4, 1)
    assert (summary.edited, summary.recategorised) == (1, 1)
    rows = {r["draft_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert populated["pending"] not in rows

    approved = rows[populated["approved"]]
    assert approved["reference_answer"] == "Use Basic."
    assert approved["gold_doc_ids"] == [
        "docs/guides/api-reference/authentication",
        "docs/guides/api-reference/environments",
    ]
    assert approved["answerable"] is True
    assert approved["edited"] is False
    assert approved["flags"] == []  # routing flags are not dataset labels

    edited = rows[populated["edited"]]
    assert edited["reference_answer"] == "Sandbox and production share one host."
    assert edited["edited"] is True

    recat = rows[populated["recat"]]
    assert recat["category"] == "webhooks"
    assert recat["category_corrected"] is True
    assert approved["category"] == "auth_api_access"

    rejected = rows[populated["rejected"]]
    assert rejected["negative"] is True
    assert rejected["reject_reason_code"] == "policy"
    assert rejected["reject_reason"] == "refunds go to finance"
    assert rejected["rejected_text"] == "Fees are…"
    assert rejected["gold_doc_ids"] == []
    assert "answerable" not in rejected  # a reject says nothing about answerability
    assert "reference_answer" not in rejected

    # The file is a dataset the eval loads as-is.
    items = load_jsonl(out)
    assert len(items) == 5
    assert {i.model_extra["draft_id"] for i in items if i.model_extra} == set(rows)


def test_since_keeps_later_decisions_only(
    store_url: str, populated: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "recent.jsonl"
    summary = export_reviews(store_url, out, since=parse_since("2025-03-05"))
    assert summary.rows == 1
    assert json.loads(out.read_text())["draft_id"] == populated["late"]


def test_parse_since_accepts_dates_and_timestamps() -> None:
    assert parse_since("2025-03-05") == datetime(2025, 3, 5, tzinfo=UTC)
    assert parse_since("2025-03-05T10:30:00+02:00") == datetime(2025, 3, 5, 8, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="--since"):
        parse_since("last tuesday")


def test_cli_exports_from_the_configured_store(
    store_url: str, populated: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIAGE_DATABASE_URL", store_url)
    out = tmp_path / "cli.jsonl"
    code, stdout, _ = invoke(["eval", "export-reviews", "--out", str(out), "--json"])
    assert code == 0
    assert json.loads(stdout) == {
        "path": str(out),
        "rows": 5,
        "positives": 4,
        "negatives": 1,
        "edited": 1,
        "recategorised": 1,
    }

    code, _, stderr = invoke(["eval", "export-reviews", "--out", str(out), "--since", "soon"])
    assert code == 1
    assert len(stderr.strip().splitlines()) == 1
    assert "--since" in stderr


def test_cli_reports_a_missing_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nothing-here.db"
    monkeypatch.setenv("TRIAGE_DATABASE_URL", f"sqlite:///{missing}")
    code, stdout, stderr = invoke(["eval", "export-reviews", "--out", str(tmp_path / "x.jsonl")])
    assert code == 1
    assert stdout == ""
    assert stderr.strip().count("\n") == 0
    assert "no review store" in stderr
    assert not missing.exists()
