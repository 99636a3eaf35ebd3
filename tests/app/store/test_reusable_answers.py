"""Reusable answers below the API: rows on SQLite and PostgreSQL, real Chroma, real
MiniLM vectors; re-verification follows a doc's chunks as a sync rewrites them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.answers.index import AnswerIndex
from app.answers.service import ReusableAnswers, citations_kept_by
from app.store import answers as rows
from ingest.vectorstore import KnowledgeBaseStore, make_chroma_client

DOC = "docs/guides/api-reference/authentication"
QUOTE = "Send your client ID as the username and the client secret as the password"
PAGE = (
    "All requests use HTTP Basic authentication. "
    f"{QUOTE} on every request. Tokens are scoped to one environment."
)
QUESTION = "How do I authenticate my requests to the API? Is it basic auth with the secret?"
PARAPHRASE = "What authentication do API requests need, basic auth using client id and secret?"
UNRELATED = "How long does a SEPA payout take to arrive in the recipient's bank account?"


class Docs:
    """The docs collection as a sync leaves it: chunks carrying doc_id and doc_hash."""

    def __init__(self, store: KnowledgeBaseStore, minilm: Any) -> None:
        self.store = store
        self.minilm = minilm

    def write(self, text: str, revision: str) -> str:
        old = [chunk_id for chunk_id, _ in self.store.all_metadata({"doc_id": DOC})]
        chunk_id = f"{DOC}#0-{revision}"
        self.store.upsert(
            [chunk_id],
            self.minilm.embed_documents([text]),
            [text],
            [{"doc_id": DOC, "doc_hash": revision, "source": f"{DOC}.md"}],
        )
        self.store.delete([c for c in old if c != chunk_id])
        return chunk_id


@pytest.fixture
def parts(
    tmp_path: Path, minilm: Any, sessions: sessionmaker[Session]
) -> tuple[ReusableAnswers, Docs]:
    client = make_chroma_client(chroma_url=None, persist_path=str(tmp_path / "chroma"))
    store = KnowledgeBaseStore(client, "docs", model_name="all-MiniLM-L6-v2", dimension=384)
    index = AnswerIndex(
        client,
        "docs",
        minilm,
        model_name="all-MiniLM-L6-v2",
        dimension=384,
        min_similarity=0.78,
    )
    return ReusableAnswers(index, store, sessions), Docs(store, minilm)


def _add(answers: ReusableAnswers, chunk_id: str, quote: str = QUOTE) -> str | None:
    return answers.add(
        question=QUESTION,
        answer=f"Use HTTP Basic auth: {QUOTE.lower()} [1].",
        citations=[{"chunk_id": chunk_id, "doc_id": DOC, "quote": quote, "marker": 1}],
        language="en",
        category="auth_api_access",
    )


def test_added_answer_pins_its_doc_revision_and_matches_paraphrases_only(
    parts: tuple[ReusableAnswers, Docs], sessions: sessionmaker[Session]
) -> None:
    answers, docs = parts
    chunk_id = docs.write(PAGE, "rev1")
    answer_id = _add(answers, chunk_id)
    assert answer_id is not None
    with sessions() as session:
        row = rows.get(session, answer_id)
        assert row is not None
        assert row.status == "active"
        assert [c["doc_hash"] for c in row.citations] == ["rev1"]

    matched = answers.match(PARAPHRASE, language="en")
    assert matched is not None
    assert matched.id == answer_id
    assert matched.citations[0].chunk_id == chunk_id
    assert answers.match(UNRELATED, language="en") is None

    assert answers.retire(answer_id, "agent withdrew it")
    assert not answers.retire(answer_id, "twice"), "retiring is a compare-and-set"
    assert answers.match(PARAPHRASE, language="en") is None
    assert [(r.id, r.reason) for r in answers.list_retired()] == [(answer_id, "agent withdrew it")]


def test_an_answer_whose_quote_is_not_in_the_doc_is_not_kept(
    parts: tuple[ReusableAnswers, Docs],
) -> None:
    answers, docs = parts
    chunk_id = docs.write(PAGE, "rev1")
    assert _add(answers, chunk_id, quote="Send the API key in the X-Api-Key header") is None
    assert answers.match(PARAPHRASE, language="en") is None


def test_reverify_follows_moved_quotes_and_retires_when_the_quote_or_doc_is_gone(
    parts: tuple[ReusableAnswers, Docs],
) -> None:
    answers, docs = parts
    answer_id = _add(answers, docs.write(PAGE, "rev1"))
    assert answers.reverify().as_dict() == {"checked": 1, "updated": 0, "retired": []}

    # An edit elsewhere in the page: new revision and chunk, the quote is still there.
    moved = docs.write("Authentication changed its intro. " + PAGE, "rev2")
    report = answers.reverify()
    assert (report.checked, report.updated, report.retired) == (1, 1, [])
    matched = answers.match(PARAPHRASE, language="en")
    assert matched is not None
    assert matched.citations[0].chunk_id == moved, "the served citation follows the text"

    # The quoted sentence is rewritten: the answer is retired with the reason.
    docs.write(PAGE.replace(QUOTE, "Use the token exchange described below"), "rev3")
    [retired] = answers.reverify().retired
    assert retired.id == answer_id
    assert DOC in retired.reason
    assert "client ID as the username" in retired.reason
    assert answers.match(PARAPHRASE, language="en") is None
    assert answers.reverify().as_dict() == {"checked": 0, "updated": 0, "retired": []}


def test_a_removed_doc_retires_its_answers(parts: tuple[ReusableAnswers, Docs]) -> None:
    answers, docs = parts
    answer_id = _add(answers, docs.write(PAGE, "rev1"))
    docs.store.delete([chunk_id for chunk_id, _ in docs.store.all_metadata({"doc_id": DOC})])
    [retired] = answers.reverify().retired
    assert retired.id == answer_id
    assert retired.reason == f"{DOC} is no longer in the docs"


def test_an_edit_that_drops_a_marked_sentence_drops_its_citation() -> None:
    cited = [
        {"chunk_id": "a", "doc_id": "d", "quote": "q one", "marker": 1},
        {"chunk_id": "b", "doc_id": "d", "quote": "q two", "marker": 2},
    ]
    assert [c["chunk_id"] for c in citations_kept_by("Only this [2].", cited)] == ["b"]
    assert len(citations_kept_by("Rewritten without markers.", cited)) == 2
