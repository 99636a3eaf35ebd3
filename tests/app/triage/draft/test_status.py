"""A pasted endpoint and error status: the endpoint's own documented meaning of it leads.

On real Grid pages: the guides share more words with the question than the endpoint's
"Responses" list does, and an agent's execute endpoint sits beside the platform's; the
draft still quotes the pasted endpoint's item for the pasted status.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.triage.draft.confidence import AnswerModel
from app.triage.draft.status import error_statuses
from app.triage.pipeline import TriagePipeline
from tests.grid_pages import pages_pipeline

PAGES = [
    "docs/api-reference/customers/updateCustomerById.md",
    "docs/api-reference/customers/createCustomer.md",
    "docs/api-reference/external-accounts/createCustomerExternalAccount.md",
    "docs/api-reference/cross-currency-transfers/executeQuote.md",
    "docs/api-reference/agent-operations/agentExecuteQuote.md",
    "docs/guides/platform-overview/core-concepts/quote-system.md",
    "docs/guides/payouts-and-b2b/onboarding/configuring-customers.md",
]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> TriagePipeline:
    return pages_pipeline(tmp_path_factory, models_dir, "status", PAGES)


def test_a_pasted_409_gets_the_endpoints_documented_meaning(pipeline: TriagePipeline) -> None:
    draft = pipeline.run(
        'PATCH /customers/Customer:019f5b76-90ab-7c1d-2e3f-5a6b7c8d9e0f {"email":"a@b.example"}'
        " -> 409. The user only wants to change their email. What does 409 mean here?"
    ).draft
    assert not draft.needs_human, draft.reason
    assert "`PATCH /customers/{customerId}`" in draft.text
    assert "already associated with an `EMAIL_OTP` credential" in draft.text
    first = draft.citations[0]
    assert first.doc_id == "docs/api-reference/customers/updateCustomerById"
    assert first.quote.startswith("- **409**")
    # No schema field list after it: read as a wrong lead by graders.
    assert "(string, required)" not in draft.text
    assert draft.provenance is not None
    assert draft.provenance.answer_features["kind"] == "status"
    # Its confidence is the graded rate of such answers, not the section model's.
    assert draft.confidence == pytest.approx(AnswerModel.default().status_answers, abs=1e-3)


def test_the_pasted_endpoint_is_told_from_an_agents_neighbour(pipeline: TriagePipeline) -> None:
    draft = pipeline.run(
        "POST /quotes/Quote:019542f5-b3e7-1d02-0000-00000000a1c3/execute returned 409 for a "
        "user who waited on the confirm screen. Why?"
    ).draft
    assert "`POST /quotes/{quoteId}/execute`" in draft.text
    assert "/agents/me/quotes" not in draft.text.split("\n\n")[1]
    assert draft.citations[0].doc_id == "docs/api-reference/cross-currency-transfers/executeQuote"


def test_a_status_the_page_only_names_is_left_to_the_section_drafter(
    pipeline: TriagePipeline,
) -> None:
    draft = pipeline.run(
        "PATCH /customers/Customer:019f5b76-90ab-7c1d-2e3f-5a6b7c8d9e0f returns 400 when we "
        "send the new address. What is wrong with the body?"
    ).draft
    assert draft.provenance is not None
    assert draft.provenance.answer_features.get("kind") != "status"


def test_a_short_meaning_counts_and_another_endpoints_list_is_not_quoted(
    pipeline: TriagePipeline,
) -> None:
    draft = pipeline.run(
        "our payee import crashed halfway and we re-ran it: now many POST "
        "/customers/external-accounts calls return 409 Conflict. do we delete and recreate them?"
    ).draft
    assert "`POST /customers/external-accounts`" in draft.text
    assert "External account already exists" in draft.text
    # POST /customers' own 409 (a UMA address or platformCustomerId clash) is not the answer.
    assert "UMA_ADDRESS_EXISTS" not in draft.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("POST /quotes/Quote:1/execute -> 409.", [409]),
        ("got a 429 then a 503 on GET /config", [429, 503]),
        ("sent $500 to /v1/404/items at 10:42", []),
    ],
)
def test_error_statuses_read_bare_numbers_in_the_error_range(
    text: str, expected: list[int]
) -> None:
    assert error_statuses([], text) == expected


def test_the_status_list_is_not_quoted_again_after_its_item() -> None:
    # The item may be read from another chunk of the list (a different candidate), so
    # the list itself must be recognised, not only the same candidate object.
    from app.triage.draft.blocks import Block
    from app.triage.draft.candidates import Candidate
    from app.triage.draft.compose import Chosen
    from app.triage.draft.status import follows_status

    responses = "- **200**: Quote processed\n- **409**: Conflict - Quote already confirmed"
    item = Candidate(0, 3, "c2", Block("list", "- **409**: Conflict"), frozenset())
    whole_list = Candidate(0, 3, "c1", Block("list", responses), frozenset())
    prose = Candidate(
        1, 0, "c9", Block("paragraph", "Set immediatelyExecute to true."), frozenset()
    )
    status = Chosen(item, items=["- **409**: Conflict"])
    assert not follows_status(status, Chosen(whole_list))
    assert follows_status(status, Chosen(prose))
