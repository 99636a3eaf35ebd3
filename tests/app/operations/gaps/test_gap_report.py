"""The knowledge-gap report on a fixture with known topics, on SQLite and PostgreSQL, with
the real MiniLM model and a real Chroma knowledge base over Grid pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.knowledge import KnowledgeBase
from app.operations.gaps.report import GapReporter
from app.operations.gaps.sources import collect, reason_codes
from app.operations.gaps.topics import keywords
from app.settings import Settings
from app.store import reviews, self_service, tickets
from app.store.conversations import append
from tests.conftest import GRID_SAMPLE
from tests.grid_pages import copy_pages, synced_knowledge_base

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=30)

UNDOCUMENTED = [  # nothing in the Grid docs answers these
    "Our vendor-risk team needs your SOC 2 Type II report, where can we download it?",
    "Do you have a SOC 2 attestation or PCI DSS report we can share with our auditors?",
    "security questionnaire: can you send the latest SOC 2 report and pen test summary?",
    "Is Grid SOC 2 certified? compliance wants the audit report",
    "where do I find your SOC2 compliance documents for our vendor review",
]
AUTH = [  # the authentication page answers these; the drafts were wrong
    "every call returns 401 Unauthorized, how do I send the client id and secret?",
    "getting 401 with my API credentials, do I authenticate with basic auth?",
    "how should I authenticate API requests, basic auth with the client id and secret?",
]
RESIDENCY = [
    "In which region do you store customer PII and KYC documents? EU data residency?",
    "Can we keep our customers' personal data stored in the EU region for GDPR?",
]


@pytest.fixture(scope="module")
def gap_kb(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path, minilm: Any
) -> KnowledgeBase:
    corpus = copy_pages(tmp_path_factory.mktemp("gap-corpus"), GRID_SAMPLE)
    settings = Settings(data_dir=tmp_path_factory.mktemp("gap-kb"), models_dir=models_dir)
    return synced_knowledge_base(corpus, settings)


def _ticket(session: Session, message: str, at: datetime, category: str = "other") -> str:
    return tickets.create_ticket(
        session,
        channel="api",
        reporter=None,
        message=message,
        triage={"category": category},
        now=at,
    ).id


def _handoff(session: Session, message: str, at: datetime, reason: str) -> str:
    ticket_id = _ticket(session, message, at)
    tickets.add_draft(
        session,
        ticket_id,
        text="A person will answer.",
        confidence=0.0,
        needs_human=True,
        reason=reason,
        now=at,
    )
    return ticket_id


def _rejected(session: Session, message: str, at: datetime, code: str = "inaccurate") -> str:
    ticket_id = _ticket(session, message, at, "auth_api_access")
    draft = tickets.add_draft(
        session, ticket_id, text="Use OAuth 2.", confidence=0.7, needs_human=False, now=at
    )
    reviews.reject(session, draft.id, reviewer="ana", reason_code=code, now=at)  # type: ignore[arg-type]
    return ticket_id


def _unhelpful(session: Session, question: str, at: datetime) -> str:
    answer = self_service.record_answer(
        session,
        question=question,
        answer="…",
        citations=[],
        confidence=0.7,
        category="other",
        language="en",
        now=at,
    )
    self_service.give_feedback(session, answer.id, "not_helpful", now=at)
    return answer.id


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> dict[str, list[str]]:
    day = timedelta(days=1)
    ids: dict[str, list[str]] = {"soc": [], "auth": [], "residency": []}
    with sessions.begin() as s:
        for n, message in enumerate(UNDOCUMENTED):
            reason = (
                "unsupported_answer; model_requested_handoff: no doc"
                if n == 4
                else ("insufficient_documentation")
            )
            ids["soc"].append(_handoff(s, message, NOW - (n + 1) * day, reason))
        for n, message in enumerate(AUTH):
            ids["auth"].append(_rejected(s, message, NOW - (n + 2) * day))
        for message in AUTH[:2]:  # the period before: the topic is growing (3 vs 2)
            _rejected(s, message, SINCE - 5 * day)
        for n, question in enumerate(RESIDENCY):
            ids["residency"].append(_unhelpful(s, question, NOW - (n + 3) * day))
        # Not gap signals: another hand-off reason, a reject for tone, a helpful answer.
        _handoff(
            s, "Transaction:019a7c21-5d3e-7f10 is stuck for hours", NOW - day, "account_specific"
        )
        _rejected(s, "How do webhooks retry?", NOW - day, code="wrong_tone")
        helped = self_service.record_answer(
            s,
            question="How do I rotate keys?",
            answer="…",
            citations=[],
            confidence=0.9,
            category="other",
            language="en",
            now=NOW - day,
        )
        self_service.give_feedback(s, helped.id, "helpful", now=NOW - day)
        # A follow-up that was handed off: its question is the follow-up, not the ticket's.
        follow = _ticket(s, "Thanks, the sandbox works now.", NOW - 3 * day)
        append(
            s,
            follow,
            kind="customer",
            text=UNDOCUMENTED[0].replace("vendor-risk", "procurement"),
            author=None,
            now=NOW - 2 * day,
        )
        tickets.add_draft(
            s,
            follow,
            text="A person will answer.",
            confidence=0.0,
            needs_human=True,
            reason="insufficient_documentation",
            now=NOW - 2 * day,
        )
        ids["soc"].append(follow)
    return ids


def test_clustering_puts_the_undocumented_topics_first(
    sessions: sessionmaker[Session],
    seeded: dict[str, list[str]],
    gap_kb: KnowledgeBase,
) -> None:
    settings = Settings(data_dir=gap_kb.settings.data_dir, models_dir=gap_kb.settings.models_dir)
    report = GapReporter(settings, gap_kb, sessions).report(SINCE, now=NOW)

    assert report.questions == 6 + 3 + 2
    # The two topics the docs lack come first, the most asked first; then the topic the
    # authentication page covers, although it was asked more than residency.
    assert [g.count for g in report.gaps] == [6, 2, 3]
    soc, residency, auth = report.gaps
    assert "soc" in soc.topic
    assert sorted(soc.ticket_ids) == sorted(seeded["soc"])
    assert soc.sources == {"handoff": 6}
    assert soc.kind == "docs_gap"
    assert soc.trend.direction == "new"
    assert any("procurement" in e for e in soc.examples)  # the follow-up's own question
    assert len(soc.examples) == 3

    assert sorted(auth.ticket_ids) == sorted(seeded["auth"])
    assert auth.kind == "retrieval_miss"
    assert (auth.trend.current, auth.trend.previous, auth.trend.direction) == (3, 2, "up")
    assert "docs/guides/api-reference/authentication" in [d.doc_id for d in auth.nearest_docs]
    assert all(d.url and d.url.startswith("https://") for d in auth.nearest_docs)

    assert residency.answer_ids == seeded["residency"]  # newest first
    assert residency.ticket_ids == []
    assert residency.sources == {"didnt_help": 2}
    assert residency.kind == "docs_gap"


def test_sources_keep_only_gap_signals_in_the_period(
    sessions: sessionmaker[Session], seeded: dict[str, list[str]]
) -> None:
    with sessions() as session:
        found = collect(session, SINCE, NOW)
        before = collect(session, SINCE - timedelta(days=30), SINCE)
    assert sorted({q.source for q in found}) == ["didnt_help", "handoff", "rejected"]
    assert len(found) == 11
    assert [q.at for q in found] == sorted((q.at for q in found), reverse=True)
    assert [q.source for q in before] == ["rejected", "rejected"]


def test_reason_codes_and_topic_words() -> None:
    assert reason_codes("unsupported_answer; model_requested_handoff: see docs") == {
        "unsupported_answer",
        "model_requested_handoff",
    }
    assert reason_codes(None) == set()
    named = keywords(
        [
            ["Grid webhook signature fails", "Grid webhook signature header missing"],
            ["Grid sandbox payout test", "Grid sandbox magic values for a payout"],
        ],
        stop_words=["hi"],
    )
    assert all("grid" not in words for words in named)  # every topic says it
    assert any("webhook" in w or "signature" in w for w in named[0])
    assert any("sandbox" in w or "payout" in w for w in named[1])
