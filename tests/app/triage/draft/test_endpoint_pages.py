"""Quotes from an endpoint's API-reference page, on real Grid pages.

A reply quoting an endpoint's description names the call it describes, and a pasted call
is never answered with the field list of another endpoint of the same method (an agent's
transaction list beside the platform's).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.triage.pipeline import TriagePipeline
from tests.grid_pages import forced_draft, pages_pipeline

PAGES = [
    "docs/api-reference/transactions/cancelTransaction.md",
    "docs/api-reference/transactions/listTransactions.md",
    "docs/api-reference/transactions/getTransactionById.md",
    "docs/api-reference/agent-operations/agentListTransactions.md",
    "docs/guides/platform-overview/core-concepts/quote-system.md",
]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> TriagePipeline:
    return pages_pipeline(tmp_path_factory, models_dir, "endpoint-pages", PAGES)


def test_a_quoted_endpoint_description_names_the_call(pipeline: TriagePipeline) -> None:
    draft = pipeline.run(
        "one of our users pushed an ACH payout to the wrong bank account a few minutes ago and "
        "it's still PROCESSING. can we cancel a bank transfer through the API before it settles?"
    ).draft
    assert not draft.needs_human, draft.reason
    assert draft.citations[0].doc_id == "docs/api-reference/transactions/cancelTransaction"
    assert "`POST /transactions/{transactionId}/cancel`" in draft.text


def test_a_pasted_call_is_not_answered_with_another_endpoints_fields(
    pipeline: TriagePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = forced_draft(
        pipeline,
        "GET /transactions?startDate=2026-01-01T00:00:00Z&endDate=2026-01-31T23:59:59Z"
        "&limit=1000 gives 400. is there a maximum page size for this export?",
        monkeypatch,
    )
    cited = {c.doc_id for c in draft.citations}
    assert draft.text
    assert "docs/api-reference/agent-operations/agentListTransactions" not in cited
