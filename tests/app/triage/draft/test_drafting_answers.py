"""The offline drafter on real Grid pages: it answers with the section that answers.

Behaviour, not wording: a how-to question gets the section's numbered steps and a code
example (in the language asked for), a pasted error code gets the passage naming it, the
[n] markers, the Sources list and the citations agree, and a question the docs do not
answer is handed off without claiming anything that did not happen.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.services.pipelines import build_pipeline
from app.settings import Settings
from app.triage.draft.offline import OfflineDrafter
from app.triage.draft.phrases import phrase
from app.triage.draft.protocol import DraftRequest
from app.triage.pipeline import TriagePipeline
from app.triage.results import DraftReply
from tests.grid_pages import copy_pages, synced_knowledge_base

PAGES = [
    "docs/guides/api-reference/authentication.md",
    "docs/guides/api-reference/webhooks.md",
    "docs/guides/api-reference/sandbox-testing.md",
    "docs/guides/payouts-and-b2b/onboarding/disclosures.md",
    "docs/api-reference/cross-currency-transfers/executeQuote.md",
    "docs/guides/platform-overview/core-concepts/quote-system.md",
    "docs/guides/platform-overview/core-concepts/transaction-lifecycle.md",
]
WEBHOOKS = "docs/guides/api-reference/webhooks"
_MARKER = re.compile(r"\[(\d+)\]")


@pytest.fixture(scope="module")
def pipeline(
    tmp_path_factory: pytest.TempPathFactory, grid_root: Path, models_dir: Path
) -> TriagePipeline:
    corpus = copy_pages(tmp_path_factory.mktemp("answers-corpus"), PAGES)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("answers-data"),
        models_dir=models_dir,
        openapi_specs=[grid_root / "openapi.yaml"],
    )
    return build_pipeline(settings, synced_knowledge_base(corpus, settings))


def _answered(pipeline: TriagePipeline, message: str) -> DraftReply:
    draft = pipeline.run(message).draft
    assert not draft.needs_human, draft.reason
    return draft


def _chunk_texts(pipeline: TriagePipeline) -> dict[str, str]:
    return {c.chunk_id: c.text for c in pipeline.retriever.lexical_index().chunks}


def test_how_to_gets_the_sections_steps_and_a_code_example(pipeline: TriagePipeline) -> None:
    draft = _answered(pipeline, "how do I verify webhook signatures?")
    assert any(c.doc_id == WEBHOOKS for c in draft.citations)
    # The numbered steps of "Signature Verification Process", whole and in order.
    first = draft.text.find("Obtain your Grid public key")
    second = draft.text.find("Verify incoming webhooks")
    assert 0 <= first < second
    assert "Decode the base64 signature" in draft.text
    assert "```" in draft.text


def test_code_example_follows_the_language_asked_for(pipeline: TriagePipeline) -> None:
    draft = _answered(pipeline, "how do I verify the webhook signature in Python (flask)?")
    assert "```python" in draft.text
    assert "public_key.verify" in draft.text


def test_pasted_error_code_gets_the_passage_that_names_it(pipeline: TriagePipeline) -> None:
    draft = _answered(
        pipeline,
        'POST /customers returns 400 {"code":"END_USER_TERMS_VERSION_NOT_FOUND"} when we send '
        'endUserTermsConsent with "termsVersion": "2024-01". what value goes there?',
    )
    assert "END_USER_TERMS_VERSION_NOT_FOUND" in draft.text
    assert any(c.doc_id.endswith("onboarding/disclosures") for c in draft.citations)
    # The error response is in the message: the reply asks only for what is missing.
    assert phrase("closing_error", "en") not in draft.text
    assert phrase("closing_request_id", "en") in draft.text


def test_http_status_picks_the_matching_response_line(
    pipeline: TriagePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Which passage is picked, whatever the confidence model makes of a one-line answer.
    monkeypatch.setattr(pipeline.offline_drafter, "min_answer_probability", 0.0)
    draft = _answered(
        pipeline,
        "POST /quotes/{quoteId}/execute gives 403 Forbidden with our new token, "
        "it only has VIEW permission. why?",
    )
    assert "TRANSACT" in draft.text
    # Only the pasted status's line of the Responses list: the long 200 line says nothing
    # about a 403 and buried the answer under SCA details.
    assert "**403**" in draft.text
    assert "**200**" not in draft.text
    assert "**409**" not in draft.text


def test_a_code_example_appears_once(pipeline: TriagePipeline) -> None:
    draft = pipeline.run("how do I add test money to an internal account in sandbox?").draft
    fences = re.findall(r"```\w*\n(.*?)```", draft.text, flags=re.DOTALL)
    assert len(fences) == len(set(fences)), draft.text


def test_markers_sources_and_citations_share_one_numbering(pipeline: TriagePipeline) -> None:
    draft = _answered(pipeline, "how do I verify webhook signatures?")
    body, _, sources = draft.text.partition(phrase("sources", "en"))
    markers = {int(n) for n in _MARKER.findall(body)}
    assert markers == set(range(1, len(draft.citations) + 1))
    assert [c.marker for c in draft.citations] == list(range(1, len(draft.citations) + 1))
    listed = [int(n) for n in re.findall(r"^\[(\d+)\]", sources, re.MULTILINE)]
    assert listed == [c.marker for c in draft.citations]
    texts = _chunk_texts(pipeline)
    for citation in draft.citations:
        assert citation.url is not None
        assert citation.url in sources
        assert " ".join(citation.quote.split()) in " ".join(texts[citation.chunk_id].split())


def test_unanswerable_question_is_handed_off_honestly(pipeline: TriagePipeline) -> None:
    result = pipeline.run(
        "Are you SOC 2 Type II certified? Our vendor review needs the latest audit report."
    )
    draft = result.draft
    assert draft.needs_human
    assert draft.reason is not None
    assert not draft.citations
    assert phrase("secret_intro", "en") not in draft.text  # nothing was redacted


def test_security_question_without_a_secret_never_claims_one_was_removed(
    pipeline: TriagePipeline,
) -> None:
    request = pipeline.draft_request("how do I verify webhook signatures?")
    triage = request.triage.model_copy(update={"category": "security", "flags": []})
    draft = pipeline.draft_for(request.model_copy(update={"triage": triage}))
    assert draft.needs_human
    assert draft.reason == "security_exposure"
    assert phrase("secret_intro", "en") not in draft.text


def test_draft_confidence_is_lower_when_nothing_answers(pipeline: TriagePipeline) -> None:
    good = pipeline.run("how do I verify webhook signatures?").draft
    request: DraftRequest = pipeline.draft_request("how do I verify webhook signatures?")
    unrelated = request.model_copy(update={"question": "what is the capital of mongolia"})
    weak = pipeline.offline_drafter.draft(unrelated)
    assert weak.confidence < good.confidence


def test_lists_keep_the_lead_in_that_says_what_each_one_is(pipeline: TriagePipeline) -> None:
    draft = _answered(
        pipeline,
        "saw this webhook sequence on one payout: PENDING -> PROCESSING -> REFUND_PENDING -> "
        "REFUND_COMPLETED -> COMPLETED. did the money go out or come back??",
    )
    lists = re.findall(r"((?:^\d+\. .*\n?)+)", draft.text, flags=re.MULTILINE)
    assert len(lists) >= 2, draft.text
    for steps in lists:
        before = draft.text[: draft.text.index(steps)].rstrip().splitlines()
        assert before, draft.text
        assert before[-1].endswith(":"), f"an unlabelled list in:\n{draft.text}"


def test_a_doubted_draft_is_handed_off_as_doubted_not_as_undocumented(
    pipeline: TriagePipeline,
) -> None:
    """Below the floor the docs may still answer: the reason must not say they do not."""
    request = pipeline.draft_request("how do I verify webhook signatures?")
    confident = pipeline.offline_drafter
    doubting = OfflineDrafter(
        sections=confident.sections,
        similarity=confident.similarity,
        model=confident.model,
        min_answer_probability=1.0,
    )
    draft = doubting.draft(request)
    assert draft.needs_human
    assert draft.reason == "low_confidence"
    nothing = doubting.draft(request.model_copy(update={"hits": []}))
    assert nothing.reason == "insufficient_documentation"
