"""The fixed sentences of a reply, in the languages support answers in (`phrases.yaml`)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

_DEFAULT_LANGUAGE = "en"

# Why a draft was handed off -> the holding line that says so truthfully.
_HOLDING_FOR_REASON = {
    "insufficient_documentation": "holding_no_answer",
    "unsupported_answer": "holding_no_answer",
    "low_confidence": "holding_no_answer",
    "account_specific": "holding_account",
    "commercial_terms": "holding_commercial",
    "compliance_question": "holding_compliance",
    "feature_request": "holding_feature",
    "incident": "holding_incident",
    "security_exposure": "holding_security",
}


@cache
def _table() -> dict[str, dict[str, str]]:
    text = resources.files("app.triage.draft").joinpath("phrases.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    return {
        lang: {k: " ".join(str(v).split()) for k, v in keys.items()} for lang, keys in data.items()
    }


def _base(language: str) -> str:
    return language.lower().split("-")[0]


def phrase(key: str, language: str) -> str:
    table = _table()
    return table.get(_base(language), {}).get(key) or table[_DEFAULT_LANGUAGE][key]


def holding_reply(reason: str | None, language: str) -> str:
    return phrase(_HOLDING_FOR_REASON.get(reason or "", "holding"), language)


def all_phrases() -> list[str]:
    """Every fixed sentence in every language (evals skip them when reading a draft)."""
    return [text for table in _table().values() for text in table.values()]


@cache
def variants(*keys: str) -> frozenset[str]:
    """Every language's text for these phrase keys."""
    return frozenset(t[key] for t in _table().values() for key in keys if key in t)
