"""What the drafter reads off a question: the identifiers it names."""

from __future__ import annotations

from app.triage.draft.question import analyse


def test_a_pasted_urls_query_parameters_are_identifiers() -> None:
    question = analyse(
        "GET /transactions?startDate=2026-02-01T00:00:00Z&limit=500 returns 400. Max page size?"
    )
    assert {"/transactions", "startDate", "limit"} <= set(question.identifiers)


def test_short_names_and_a_question_mark_in_prose_are_not_parameters() -> None:
    question = analyse("what? id=5 and GET /cards?q=visa&cursor=abc")
    assert "cursor" in question.identifiers
    assert "q" not in question.identifiers
    assert "id" not in question.identifiers
