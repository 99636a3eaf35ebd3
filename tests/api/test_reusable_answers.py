"""Answers learnt from agents, end to end: a real approval through the API stores a
reusable answer (SQLite row + its own Chroma collection), a paraphrase matches it, an
unrelated question does not, and after its quoted doc text changes, `triage ingest`
retires it and `triage answers review` lists it with the reason."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.answers.service import ReusableAnswers
from app.answers.verify import quote_found
from app.api import create_app
from app.knowledge import build_knowledge_base
from app.services.runtime import Pipeline
from app.settings import Settings
from app.store.models import ReusableAnswer
from app.triage.draft.citations import normalise_for_match
from tests.api.conftest import AUTH_QUESTION, base_env, issue_tokens, run_cli
from tests.conftest import embedding_cache_of

PARAPHRASE = "hi, how do i authenticate api calls"  # AUTH_QUESTION in other words
UNRELATED = "How do I test payouts in the sandbox environment before going live?"


@dataclass
class Env:
    client: TestClient
    app: FastAPI
    settings: Settings
    corpus: Path
    tokens: dict[str, str]
    running: bool = True

    @property
    def answers(self) -> ReusableAnswers:
        answers = self.app.state.services.review.answers
        assert isinstance(answers, ReusableAnswers)
        return answers

    def stop(self) -> None:
        if self.running:
            self.client.__exit__(None, None, None)
            self.running = False

    def auth(self, role: str = "agent") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def rows(self) -> list[ReusableAnswer]:
        factory = self.app.state.services.runtime.sessions
        with factory() as session:
            return list(session.query(ReusableAnswer).order_by(ReusableAnswer.created_at))

    def ticket_with_draft(self, message: str) -> dict[str, Any]:
        created = self.client.post(
            "/v1/tickets", json={"message": message}, headers=self.auth("integration")
        )
        assert created.status_code == 201, created.text
        ticket: dict[str, Any] = created.json()
        assert ticket["draft"]["citations"], "the Grid sample answers this question"
        return ticket


@pytest.fixture
def env(tmp_path: Path, grid_sample: Path, models_dir: Path, minilm: Any) -> Iterator[Env]:
    """Its own data dir (the docs change here), the real offline pipeline, SQLite."""
    from app.services.pipelines import build_pipeline

    settings = Settings(
        data_dir=tmp_path / "data",
        models_dir=models_dir,
        embedding_cache_dir=embedding_cache_of(models_dir),
        embedding_threads=2,
        database_url=f"sqlite:///{tmp_path / 'triage.db'}",
        run_workers=False,
    )
    kb = build_knowledge_base(settings, refresh_seconds=0)
    assert kb.synchronizer().sync([grid_sample]).docs_failed == 0
    pipeline: Pipeline = build_pipeline(settings, kb)
    app = create_app(settings, kb=kb, pipeline=pipeline)
    client = TestClient(app)
    client.__enter__()
    env = Env(client, app, settings, grid_sample, issue_tokens(app.state.services.runtime.sessions))
    try:
        yield env
    finally:
        env.stop()


def _approve(env: Env, draft_id: str, text: str | None = None) -> dict[str, Any]:
    body = {"text": text} if text is not None else {}
    approved = env.client.post(
        f"/v1/drafts/{draft_id}/approve",
        json=body,
        headers={**env.auth(), "Idempotency-Key": f"approve-{draft_id}"},
    )
    assert approved.status_code == 200, approved.text
    result: dict[str, Any] = approved.json()
    return result


def test_an_approved_draft_becomes_a_reusable_answer_that_a_paraphrase_matches(env: Env) -> None:
    ticket = env.ticket_with_draft(AUTH_QUESTION)
    draft = ticket["draft"]
    _approve(env, draft["id"])

    [row] = env.rows()
    assert row.status == "active"
    assert row.question == ticket["message"]
    assert row.answer == draft["text"]
    assert (row.source_ticket_id, row.source_draft_id) == (ticket["id"], draft["id"])
    assert row.language == "en"
    assert row.category == ticket["triage"]["category"]
    assert row.edited is False
    cited = {(c["chunk_id"], c["quote"]) for c in draft["citations"]}
    assert {(c["chunk_id"], c["quote"]) for c in row.citations} <= cited
    assert all(c["doc_hash"] for c in row.citations), "each quote records its doc revision"

    matched = env.answers.match(PARAPHRASE, language="en")
    assert matched is not None
    assert matched.id == row.id
    assert matched.text == draft["text"]
    assert matched.similarity >= env.settings.reusable_answer_min_similarity
    assert [c.chunk_id for c in matched.citations] == [c["chunk_id"] for c in row.citations]
    assert env.answers.match(UNRELATED, language="en") is None
    assert env.answers.match(PARAPHRASE, language="es") is None, "never across languages"


def test_an_edited_approval_stores_the_agent_text(env: Env) -> None:
    ticket = env.ticket_with_draft(AUTH_QUESTION)
    edited = "Send your client ID and secret with HTTP Basic auth on every request. " + " ".join(
        f"[{c['marker']}]" for c in ticket["draft"]["citations"] if c.get("marker")
    )
    _approve(env, ticket["draft"]["id"], edited.strip())

    [row] = env.rows()
    assert row.answer == edited.strip()
    assert row.edited is True
    matched = env.answers.match(PARAPHRASE, language="en")
    assert matched is not None
    assert matched.text == edited.strip()


def _rewrite_quoted_line(corpus: Path, source: str, quote: str) -> Path:
    """Change the doc line that holds the quote, as an editor updating the page would."""
    path = next(p for p in corpus.rglob("*") if p.is_file() and str(p).endswith(source))
    lines = path.read_text(encoding="utf-8").splitlines()
    fragment = re.split(r"\s*(?:…|\.{3,})\s*", quote)[0]
    probe = normalise_for_match(fragment)[:40]
    hits = [i for i, line in enumerate(lines) if probe and probe in normalise_for_match(line)]
    assert hits, f"the quote's line was not found in {path}"
    for i in hits:
        lines[i] = "This part of the page was rewritten: the old instructions no longer apply."
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert not quote_found(quote, path.read_text(encoding="utf-8"))
    return path


def test_changed_doc_text_retires_the_answer_on_ingest_and_lists_it_for_review(
    env: Env, models_dir: Path
) -> None:
    ticket = env.ticket_with_draft(AUTH_QUESTION)
    _approve(env, ticket["draft"]["id"])
    [row] = env.rows()
    citation = row.citations[0]
    _rewrite_quoted_line(env.corpus, citation["source"], citation["quote"])
    # The server stops before the CLI writes (one process per embedded Chroma at a time).
    env.stop()

    cli_env = base_env(
        models_dir,
        TRIAGE_DATA_DIR=str(env.settings.data_dir),
        TRIAGE_DATABASE_URL=str(env.settings.database_url),
    )
    ingested = json.loads(run_cli(["ingest", str(env.corpus), "--json"], cli_env))
    assert ingested["docs_updated"] >= 1
    report = ingested["reusable_answers"]
    assert report["checked"] == 1
    [retired] = report["retired"]
    assert retired["id"] == row.id
    assert citation["doc_id"] in retired["reason"]

    listed = json.loads(run_cli(["answers", "review", "--json"], cli_env))
    assert [r["id"] for r in listed] == [row.id]
    assert listed[0]["reason"] == retired["reason"]
    assert listed[0]["source_ticket_id"] == ticket["id"]

    # A second ingest finds nothing left to retire: the answer is out of the index too.
    again = json.loads(run_cli(["ingest", str(env.corpus), "--json"], cli_env))
    assert again["reusable_answers"] == {"checked": 0, "updated": 0, "retired": []}


def test_a_paraphrase_is_drafted_with_the_approved_answer(env: Env) -> None:
    ticket = env.ticket_with_draft(AUTH_QUESTION)
    edited = ticket["draft"]["text"] + "\n\nSandbox and production use different API tokens."
    _approve(env, ticket["draft"]["id"], edited)

    created = env.client.post(
        "/v1/tickets", json={"message": PARAPHRASE}, headers=env.auth("integration")
    )
    assert created.status_code == 201, created.text
    draft = created.json()["draft"]
    assert draft["text"] == edited  # the agent's answer, not a new extract of the docs
    assert draft["citations"]
    assert not draft["needs_human"]


def test_self_service_shows_an_approved_answer_but_not_an_unreviewed_docs_draft(
    env: Env,
) -> None:
    """Default settings: no docs-only confidence threshold has earned self-service, so a
    first question is handed off; once an agent approved an answer, a paraphrase gets it."""
    first = env.client.post("/v1/ask", json={"question": AUTH_QUESTION}).json()
    assert first["handed_off"] is True
    ticket = env.client.get(f"/v1/tickets/{first['ticket_id']}", headers=env.auth()).json()
    _approve(env, ticket["draft"]["id"])

    again = env.client.post("/v1/ask", json={"question": PARAPHRASE}).json()
    assert again["handed_off"] is False
    assert again["citations"]
    assert again["ticket_id"] is None
