"""What the drafter reads from a question: pasted identifiers and the fields it asks about."""

from __future__ import annotations

from app.triage.draft.blocks import Block
from app.triage.draft.candidates import Candidate
from app.triage.draft.question import analyse
from app.triage.draft.relevance import Weights, identifier_hits, terms
from app.triage.draft.section_blocks import _take


def test_pasted_query_parameters_are_identifiers() -> None:
    pasted = analyse("GET /transactions?startDate=2026-02-01&limit=500 returns 400. max page size?")
    assert {"startDate", "limit"} <= set(pasted.identifiers)
    written = analyse("GET /customers/external-accounts only gives 20, tried limit=500 and got 400")
    assert "limit" in written.identifiers
    assert analyse("a == b and amount = 5, 2 & 3").identifiers == ()


def test_a_plain_word_names_a_parameter_only_in_backticks() -> None:
    assert identifier_hits(("limit",), "- `limit` (in query, integer): max 100") == 1
    assert identifier_hits(("limit",), "Handle rate limits gracefully") == 0
    assert identifier_hits(("startDate",), "Filter by startDate (inclusive)") == 1


BURN_BODY = (
    "- `amount` (string, required): Amount to burn in the stablecoin's smallest unit. "
    "The amount must convert exactly to a whole fiat cent for the token decimals.\n"
    "- `type` (string, required): Burn source variant. Allowed values: `EXTERNAL_ACCOUNT`, "
    "`PROVIDER_INTERNAL_BALANCE`.\n"
    "- `rail` (string): The rail to pay out on. Allowed values: `ACH_CREDIT`, `WIRE`.\n"
)


def test_the_field_the_question_asks_about_leads_a_schema_list() -> None:
    question = analyse(
        'POST /stablecoins/x/burns -> 400. body: {"amount":"1999995","source":{"type":'
        '"PROVIDER_INTERNAL_BALANCE"},"destination":{"rail":"ACH_CREDIT"}}. '
        "What is wrong with the amount??"
    )
    block = Block("list", BURN_BODY)
    candidate = Candidate(0, 0, "c1", block, terms(BURN_BODY), chunk_text=BURN_BODY)
    weights = Weights(terms(question.text), [candidate.terms])
    chosen = _take(question, weights, candidate, 1.0)
    assert chosen is not None
    assert chosen.items[0].startswith("- `amount`")
