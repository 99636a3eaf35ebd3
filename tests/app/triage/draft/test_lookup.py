"""Finding objects by a property: the list endpoint's query parameters answer it.

On real Grid pages: the guide that creates cards shares more words with "fetch the card by
our own id" than the list endpoint does, and an agent's list of transactions competes
with the platform's; the draft still quotes the right list endpoint's parameters.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.triage.draft.confidence import AnswerModel
from app.triage.draft.question import asks_lookup
from app.triage.pipeline import TriagePipeline
from tests.grid_pages import pages_pipeline

PAGES = [
    "docs/guides/cards/card-management/issuing-cards.md",
    "docs/api-reference/cards/listCards.md",
    "docs/api-reference/cards/getCardById.md",
    "docs/api-reference/transactions/listTransactions.md",
    "docs/api-reference/transactions/getTransactionById.md",
    "docs/api-reference/agent-operations/agentListTransactions.md",
]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> TriagePipeline:
    return pages_pipeline(tmp_path_factory, models_dir, "lookup", PAGES)


def test_a_lookup_by_the_platforms_own_id_gets_the_list_endpoints_filter(
    pipeline: TriagePipeline,
) -> None:
    draft = pipeline.run(
        "Our ops tool only knows our own platformCardId for each card. How do I fetch the "
        "card without storing Grid's Card id?"
    ).draft
    assert not draft.needs_human, draft.reason
    assert "`GET /cards`" in draft.text
    assert "`platformCardId` (in query" in draft.text
    assert [c.doc_id for c in draft.citations] == ["docs/api-reference/cards/listCards"]
    # Its confidence is the graded rate of parameter answers, not the section model's.
    assert draft.confidence == pytest.approx(AnswerModel.default().parameter_answers, abs=1e-3)


def test_the_platforms_list_endpoint_is_preferred_to_an_agents(pipeline: TriagePipeline) -> None:
    draft = pipeline.run(
        "A customer's bank statement shows the wire reference UMA-Q7H2K9-REF. Can I find the "
        "transaction from that reference without paging through everything?"
    ).draft
    assert "`GET /transactions`" in draft.text
    assert "`reference` (in query" in draft.text


def test_a_how_to_that_finds_nothing_is_answered_from_the_guide(pipeline: TriagePipeline) -> None:
    draft = pipeline.run("How do I issue a virtual card to a cardholder?").draft
    assert "(in query" not in draft.text


def test_a_pasted_write_call_is_not_a_lookup() -> None:
    # "delete … by our own id: DELETE /customers?…" asks how to delete, not how to list.
    assert asks_lookup("how do I find the card by our own id?")
    assert not asks_lookup(
        "trying to delete a test customer by our own id: DELETE /customers?platformCustomerId=u1"
        " -> 405. is deleting customers not supported?"
    )


def test_another_resources_filters_do_not_answer(pipeline: TriagePipeline) -> None:
    # Nothing here lists webhooks; the transactions list's `type` filter is not named by
    # "per event type", so no parameter list stands in for an answer.
    draft = pipeline.run(
        "feature ask: we'd like CUSTOMER.* events to go to one service and the payment events "
        "to another, ideally with an event-type filter per webhook endpoint. possible today?"
    ).draft
    assert draft.provenance is not None
    assert draft.provenance.answer_features.get("kind") != "parameters"
