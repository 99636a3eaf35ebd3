"""The built-in taxonomy's classifier on messages written for these tests (not dataset
rows): the labelling conventions its descriptions state hold for new wording."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.triage.classify.categorize import CategoryClassifier
from app.triage.classify.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def classifier(minilm: Any, tmp_path_factory: pytest.TempPathFactory) -> CategoryClassifier:
    return CategoryClassifier(
        load_taxonomy(),
        minilm,
        cache_dir=Path(tmp_path_factory.mktemp("models")),
        model_name="all-MiniLM-L6-v2",
    )


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # End users' authentication (SCA, embedded-wallet credentials) is auth_api_access.
        (
            "EU user typed the SCA code wrong a few times and now the login is locked, "
            "when can they try again?",
            "auth_api_access",
        ),
        ("how do we enroll a passkey as a second SCA factor for a customer", "auth_api_access"),
        # The Agents beta and tooling are "other".
        (
            "agents: the customer never redeemed the device code we showed them, can we "
            "issue a fresh one for the same agent?",
            "other",
        ),
        # Asking whether an event exists is a webhooks question.
        (
            "is there any webhook that fires when an external account is verified, or do we "
            "have to keep polling it?",
            "webhooks",
        ),
        # A validation error on one product's own fields goes to that product.
        (
            "creating a EUR external account returns 400 INVALID_INPUT, which beneficiary "
            "fields are required?",
            "accounts_wallets",
        ),
    ],
)
def test_conventions_hold_on_new_wording(
    classifier: CategoryClassifier, text: str, category: str
) -> None:
    assert classifier.classify(text).category == category
