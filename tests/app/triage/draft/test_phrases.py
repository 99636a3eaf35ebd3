"""The fixed sentences: every hand-off reason has its own truthful holding line in each
language support answers in, and languages without a table fall back to English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.triage.draft import handoff
from app.triage.draft.phrases import holding_reply, phrase

_REASONS = sorted(set(re.findall(r'return "([a-z_]+)"', Path(handoff.__file__).read_text())))


def test_the_policy_reasons_are_found() -> None:
    assert {"account_specific", "commercial_terms", "insufficient_documentation"} <= set(_REASONS)


@pytest.mark.parametrize("reason", _REASONS)
@pytest.mark.parametrize("language", ["es", "pt"])
def test_every_reason_has_a_holding_line_in_the_askers_language(reason: str, language: str) -> None:
    assert holding_reply(reason, language)
    assert holding_reply(reason, language) != holding_reply(reason, "en")


def test_a_pricing_question_is_not_told_it_needs_an_account_review() -> None:
    for language in ("en", "es", "pt"):
        assert holding_reply("commercial_terms", language) != holding_reply(
            "account_specific", language
        )


def test_a_missing_answer_and_an_account_question_get_different_lines() -> None:
    assert holding_reply("insufficient_documentation", "en") != holding_reply(
        "account_specific", "en"
    )


def test_unknown_language_or_region_tag_falls_back_sensibly() -> None:
    assert phrase("intro", "xx") == phrase("intro", "en")
    assert phrase("intro", "es-MX") == phrase("intro", "es")
    assert holding_reply(None, "fr") != holding_reply(None, "en")
