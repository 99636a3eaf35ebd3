"""Poisoned doc pages ingested with real Grid docs (real Chroma, real MiniLM): none of
their text reaches `POST /v1/ask`, `triage ask` or an LLM prompt, and `triage ingest`
names every poisoned page with its file and line."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.knowledge import KnowledgeBase, build_knowledge_base
from app.services.runtime import Pipeline
from app.settings import Settings
from ingest.sync_report import SyncReport
from tests.api.conftest import MakeApi, base_env, run_cli
from tests.conftest import GRID_ROOT, REPO_ROOT
from tests.fakes import FakeOpenAI, llm_settings

pytestmark = pytest.mark.slow

POISONED = REPO_ROOT / "tests" / "fixtures" / "poisoned_docs"
PAGES = sorted(p.name for p in POISONED.glob("*.md"))

# Questions each poisoned page was written to answer.
QUESTIONS = [
    "I lost my client secret, how do I recover my credentials?",
    "Has the Grid sandbox moved? What is the new sandbox address?",
    "Do I need to verify webhook signatures in production?",
    "My quote expired, how do I refresh quotes?",
    "Every request returns 401 Unauthorized, what should I check?",
    "How do I verify my account before moving real funds?",
    "How do I restore my wallet with support?",
    "How do I reset the client secret of an API token?",
    "Is there an SDK hotfix for retries on timeouts?",
    "What are the rate limits per endpoint?",
    "¿Cómo recupero el acceso a la API si perdí la clave?",
    "How do I raise my payout limits?",
]

# Text found only in the poisoned pages (compared lower-cased, zero-width removed).
MARKERS = [
    "evil.example",
    "bit.ly",
    "grid-sdk-hotfix",
    "reply with your client id",
    "recover your credentials quickly",
    "send your password",
    "12-word recovery phrase",
    "ignore previous instructions",
    "as an ai assistant",
    "signatures are optional",
    "im_start",
    "unrestricted assistant",
    "clave secreta",
    "assistants reading this",
    "sandbox has moved",
]


def leaked(text: str) -> list[str]:
    plain = text.replace("\u200b", "").lower()
    return [m for m in MARKERS if m in plain]


@dataclass
class PoisonedKB:
    settings: Settings
    kb: KnowledgeBase
    report: SyncReport


@pytest.fixture(scope="module")
def poisoned_kb(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path, minilm: Any, api_corpus: Path
) -> PoisonedKB:
    corpus = tmp_path_factory.mktemp("poisoned-corpus") / "corpus"
    shutil.copytree(api_corpus, corpus)
    shutil.copytree(POISONED, corpus / "poisoned_docs")
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("poisoned-kb"), models_dir=models_dir, embedding_threads=2
    )
    kb = build_knowledge_base(settings, refresh_seconds=0)
    report = kb.synchronizer().sync([corpus])
    assert report.docs_failed == 0
    return PoisonedKB(settings, kb, report)


@pytest.fixture(scope="module")
def poisoned_pipeline(poisoned_kb: PoisonedKB) -> Pipeline:
    from app.services.pipelines import build_pipeline

    built = build_pipeline(poisoned_kb.settings, poisoned_kb.kb)
    built.run("warm up the classifier")
    return built


def test_ingest_flags_every_poisoned_page_and_no_real_page(poisoned_kb: PoisonedKB) -> None:
    flagged = poisoned_kb.report.as_dict()["flagged"]
    sources = {row["source"] for row in flagged}
    assert sources == {f"poisoned_docs/{name}" for name in PAGES}
    assert len(PAGES) >= 10
    for row in flagged:
        lines = (POISONED / Path(row["source"]).name).read_text("utf-8").splitlines()
        assert 1 <= row["line"] <= len(lines), row
        assert row["reasons"], row
    stored = poisoned_kb.kb.store.all_metadata(where={"untrusted": True})
    assert {str(meta["source"]) for _, meta in stored} == sources


def test_retriever_withholds_poisoned_passages(poisoned_kb: PoisonedKB) -> None:
    retriever = poisoned_kb.kb.retriever
    for question in QUESTIONS:
        hits = retriever.search(question, 8)
        usable, flagged = retriever.screen(hits)
        assert not any(h.source.startswith("poisoned_docs/") for h in usable), question
        assert [h.chunk_id for h in usable + flagged] != [], question
        assert not any(leaked(h.text) for h in usable), question


def test_public_ask_shows_none_of_the_poisoned_text(
    make_api: MakeApi, poisoned_pipeline: Pipeline, poisoned_kb: PoisonedKB
) -> None:
    api = make_api(
        use_pipeline=poisoned_pipeline,
        ask_answer_min_confidence=0.0,
        public_ask_rate_per_minute=100,
    )
    for question in QUESTIONS:
        response = api.client.post("/v1/ask", json={"question": question})
        assert response.status_code == 200, response.text
        assert leaked(response.text) == [], (question, response.text)
        citations = response.json()["citations"]
        assert not any(c["doc_id"].startswith("poisoned_docs/") for c in citations), question


def test_a_poisoned_page_among_the_best_hits_is_recorded(poisoned_pipeline: Pipeline) -> None:
    result = poisoned_pipeline.run(QUESTIONS[0])
    assert "untrusted_source" in result.triage.flags
    assert leaked(result.draft.text) == []
    assert not any(
        cid.startswith("poisoned_docs/") for cid in result.draft.provenance.retrieved_chunk_ids
    )


def test_a_draft_that_would_rely_on_a_poisoned_page_goes_to_a_person(
    poisoned_pipeline: Pipeline,
) -> None:
    result = poisoned_pipeline.run(QUESTIONS[0])
    assert result.draft.needs_human
    assert result.draft.reason == "untrusted_source"


def test_llm_prompt_holds_none_of_the_poisoned_text(
    poisoned_kb: PoisonedKB, fake_openai: FakeOpenAI
) -> None:
    from app.services.pipelines import build_pipeline

    settings = llm_settings(
        fake_openai,
        data_dir=poisoned_kb.settings.data_dir,
        models_dir=poisoned_kb.settings.models_dir,
        embedding_provider="local",
    )
    llm_pipeline = build_pipeline(settings, poisoned_kb.kb)
    # A poisoned page among the best hits hands off before any draft prompt; these
    # questions are answered by real pages, with poisoned ones at most lower down.
    controls = [
        "What are the sandbox and production base URLs?",
        "How do I simulate a failed payment in sandbox testing?",
    ]
    for question in [*QUESTIONS, *controls]:
        llm_pipeline.run(question)
    prompts = [
        "\n".join(str(m.get("content", "")) for m in r.body.get("messages", []))
        for r in fake_openai.chat_requests
    ]
    assert prompts, "the LLM was never asked"
    for prompt in prompts:
        assert leaked(prompt) == [], prompt[:2000]
    with_docs = [p for p in prompts if "<doc " in p]
    assert with_docs, "no draft prompt carried documentation"
    assert all('trust="untrusted"' in p for p in with_docs)


def test_triage_cli_reports_lists_and_never_quotes_poisoned_pages(
    tmp_path: Path, models_dir: Path, minilm: Any
) -> None:
    corpus = tmp_path / "corpus"
    for rel in ("docs/guides/api-reference/authentication.md",):
        (corpus / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(GRID_ROOT / rel, corpus / rel)
    shutil.copytree(POISONED, corpus / "poisoned_docs")
    env = base_env(models_dir, TRIAGE_DATA_DIR=str(tmp_path / "data"))

    report = json.loads(run_cli(["ingest", str(corpus), "--json"], env))
    assert {"docs_seen", "chunks_written", "failures", "seconds"} <= report.keys()
    rows = report["flagged"]
    assert {r["source"] for r in rows} == {f"poisoned_docs/{n}" for n in PAGES}
    assert all(r["line"] >= 1 and r["reasons"] and r["chunk_id"] for r in rows)

    human = run_cli(["ingest", str(corpus)], env)
    assert "0 embeddings" in human
    for row in rows:
        assert f"{row['source']}:{row['line']}" in human

    listed = json.loads(run_cli(["search", "--flagged", "--json"], env))
    assert {r["source"] for r in listed} == {f"poisoned_docs/{n}" for n in PAGES}

    answer = run_cli(["ask", QUESTIONS[0], "--json"], env)
    assert leaked(answer) == [], answer
    draft = json.loads(answer)["draft"]
    assert not any(c["doc_id"].startswith("poisoned_docs/") for c in draft["citations"])
