"""Answers to "is there a webhook for X?", on real Grid pages.

The guides that mention funding instructions or bulk uploads share more words with the
question than the webhook reference does; the draft still names the event that fires.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.triage.draft.confidence import AnswerModel
from app.triage.draft.question import asks_event
from app.triage.pipeline import TriagePipeline
from tests.grid_pages import forced_draft, pages_pipeline

PAGES = [
    "docs/api-reference/webhooks/internal-account-status.md",
    "docs/api-reference/webhooks/bulk-upload.md",
    "docs/api-reference/webhooks/incoming-payment.md",
    "docs/guides/global-p2p/managing-accounts/internal-accounts.md",
    "docs/guides/global-p2p/onboarding/configuring-customers.md",
    "docs/guides/payouts-and-b2b/payment-flow/assessing-fees.md",
]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> TriagePipeline:
    return pages_pipeline(tmp_path_factory, models_dir, "events", PAGES)


def _forced(pipeline: TriagePipeline, message: str, monkeypatch: pytest.MonkeyPatch) -> str:
    draft = forced_draft(pipeline, message, monkeypatch)
    assert draft.provenance is not None
    assert draft.provenance.answer_features["kind"] == "event"
    # Its confidence is the graded rate of such answers, not the section model's.
    assert draft.confidence == pytest.approx(AnswerModel.default().event_answers, abs=1e-3)
    return draft.text


def test_an_event_list_item_answers(
    pipeline: TriagePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _forced(
        pipeline,
        "we cache the deposit details (fundingPaymentInstructions) of each internal account, "
        "but for some accounts the wire details only showed up a day later. Is there an event "
        "when they change, or do we re-fetch on a timer?",
        monkeypatch,
    )
    assert "`INTERNAL_ACCOUNT.FUNDING_INSTRUCTIONS_UPDATED`" in text
    assert "`INTERNAL_ACCOUNT.BALANCE_UPDATED`" not in text


def test_a_webhook_description_comes_with_its_own_event_types(
    pipeline: TriagePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _forced(
        pipeline,
        "we upload customers in bulk from a CSV. is there a webhook when the job is done so we "
        "don't have to keep polling the job status?",
        monkeypatch,
    )
    assert "`BULK_UPLOAD.COMPLETED`" in text
    # The payload's own event types, not the envelope's list of every event.
    assert "`OUTGOING_PAYMENT.PENDING`" not in text


def test_a_section_about_the_events_asked_for_beats_a_webhook_page(
    pipeline: TriagePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = forced_draft(
        pipeline,
        "finance wants to book our platform fee revenue from webhooks. which events carry "
        "the fee, and when is it safe to count it as earned?",
        monkeypatch,
    )
    assert draft.citations[0].doc_id == "docs/guides/payouts-and-b2b/payment-flow/assessing-fees"
    assert "`platformFees`" in draft.text


@pytest.mark.parametrize(
    ("message", "asks"),
    [
        ("which webhook tells us a deposit landed?", True),
        ("¿hay algún webhook cuando cambia el estado de la cuenta?", True),
        ("existe algum evento quando o upload termina?", True),
        ("how do I verify webhook signatures?", False),
        ("our webhook endpoint returns 500", False),
    ],
)
def test_asking_to_be_told(message: str, asks: bool) -> None:
    assert asks_event(message) is asks
