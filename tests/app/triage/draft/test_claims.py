"""The claim-by-claim support check and the OpenAPI name check, on their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.triage.draft.api_names import ApiIndex, load_api_index
from app.triage.draft.claims import check_claims
from app.triage.results import Citation
from tests.app.triage.draft.test_llm_drafter import QUOTE_TEXT, WEBHOOK_TEXT, make_hit

HITS = [make_hit("quotes-1", QUOTE_TEXT), make_hit("webhooks-1", WEBHOOK_TEXT, 1)]


def cite(chunk_id: str) -> Citation:
    return Citation(chunk_id=chunk_id, doc_id=f"doc-{chunk_id}", source="s", url=None, quote="q")


def test_each_sentence_is_judged_by_the_passage_it_cites() -> None:
    answer = (
        "Quotes expire after 30 seconds.\n"
        "- Verify the `X-Grid-Signature` header with your webhook public key.\n"
        "- Quotes can be extended once by contacting support."
    )

    report = check_claims(answer, [cite("quotes-1"), cite("webhooks-1")], HITS)

    assert report.unsupported == ["Quotes can be extended once by contacting support."]
    assert report.text == (
        "Quotes expire after 30 seconds.\n"
        "- Verify the `X-Grid-Signature` header with your webhook public key."
    )
    assert report.checked == 3


def test_an_inline_reference_narrows_the_passage() -> None:
    answer = "Verify the `X-Grid-Signature` header with your public key [quotes-1]."

    report = check_claims(answer, [cite("quotes-1"), cite("webhooks-1")], HITS)

    assert report.unsupported, "the sentence names a passage that does not say it"


def test_code_blocks_headings_and_connectives_are_not_claims() -> None:
    answer = (
        "## Steps\n\nHere is how:\n\n```js\nverify(sig, key)\n```\n\n"
        "Quotes expire after 30 seconds."
    )

    report = check_claims(answer, [cite("quotes-1")], HITS)

    assert report.unsupported == []
    assert report.checked == 1
    assert "```js\nverify(sig, key)\n```" in report.text


def test_a_link_is_judged_by_its_text() -> None:
    answer = "Quotes [expire after 30 seconds](https://docs.example.test/2099/quotes)."

    assert check_claims(answer, [cite("quotes-1")], HITS).unsupported == []


def test_another_language_checks_identifiers_and_marks_the_rest_unverifiable() -> None:
    answer = (
        "Las cotizaciones vencen a los 30 segundos y devuelven `QUOTE_EXPIRED`. "
        "Después puedes pedir un reembolso completo al equipo."
    )

    report = check_claims(answer, [cite("quotes-1")], HITS, lexical=False)

    assert report.unsupported == []
    assert report.unverifiable == ["Después puedes pedir un reembolso completo al equipo."]
    assert "reembolso" in report.text, "kept for the reviewer, marked"


@pytest.fixture(scope="module")
def grid_index(grid_root: Path) -> ApiIndex:
    index = load_api_index([grid_root / "openapi.yaml"])
    assert index is not None
    return index


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("Call `POST /quotes/{quoteId}/execute`.", []),
        ("Call POST https://api.lightspark.com/grid/2025-10-13/quotes/q_123/execute.", []),
        ("Call `GET /quotes/{quoteId}/execute`.", ["GET /quotes/{quoteId}/execute"]),
        ("Call `POST /v1/refunds`.", ["POST /v1/refunds"]),
        ("The status is `COMPLETED` or `FAILED`.", []),
        ("The status becomes `SETTLED_OK`.", ["SETTLED_OK"]),
        ("Retry on QUOTE_EXPIRED, not on QUOTE_VANISHED.", ["QUOTE_VANISHED"]),
        ("Set `lockedCurrencyAmount` and `lockedCurrencySide`.", []),
        ("Set `lockedCurrencyAmountz`.", ["lockedCurrencyAmountz"]),
        ("Listen for `OUTGOING_PAYMENT.COMPLETED`.", []),
    ],
)
def test_api_names_are_checked_against_the_spec(
    grid_index: ApiIndex, text: str, unknown: list[str]
) -> None:
    assert grid_index.unknown_names(text) == unknown


def test_a_name_the_passages_spell_is_accepted(grid_index: ApiIndex) -> None:
    text = "Export `GRID_CLIENT_SECRET` before running the sample."

    assert grid_index.unknown_names(text) == ["GRID_CLIENT_SECRET"]
    assert grid_index.unknown_names(text, grounding=["export GRID_CLIENT_SECRET=..."]) == []


def test_no_spec_means_no_index(tmp_path: Path) -> None:
    assert load_api_index([]) is None
    assert load_api_index([tmp_path / "missing.yaml"]) is None
