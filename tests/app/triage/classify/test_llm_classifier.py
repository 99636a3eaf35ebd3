"""LLMClassifier against the HTTP fake: taxonomy-constrained output or a typed error."""

from __future__ import annotations

from typing import Any

import pytest

from app.services.pipelines import llm_classifier
from app.triage.classify.llm_classifier import LLMClassificationError, LLMClassifier
from app.triage.classify.taxonomy import Taxonomy, load_taxonomy
from tests.fakes import FakeOpenAI, Reply, llm_settings


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture
def classifier(fake_openai: FakeOpenAI, taxonomy: Taxonomy) -> LLMClassifier:
    return llm_classifier(llm_settings(fake_openai), taxonomy)


def answer(category: str = "webhooks", **overrides: Any) -> dict[str, Any]:
    return {
        "category": category,
        "confidence": 0.9,
        "priority": "P2",
        "language": "en",
        "sentiment": "negative",
        "reason": "webhook signatures fail to verify",
        **overrides,
    }


def test_allowed_category_is_returned(fake_openai: FakeOpenAI, classifier: LLMClassifier) -> None:
    fake_openai.script(Reply.json(answer()))

    result = classifier.classify("Our webhook signature verification keeps failing in node.")

    assert result.category == "webhooks"
    assert result.confidence == pytest.approx(0.9)
    assert result.priority == "P2"
    assert result.language == "en"
    assert result.sentiment == "negative"
    assert result.reason == "webhook signatures fail to verify"
    assert result.model == "gpt-4o-mini"
    assert result.prompt_id == classifier.template.id


def test_the_schema_sent_enumerates_the_taxonomy(
    fake_openai: FakeOpenAI, classifier: LLMClassifier, taxonomy: Taxonomy
) -> None:
    fake_openai.script(Reply.json(answer()))
    classifier.classify("webhooks are not arriving")

    (request,) = fake_openai.chat_requests
    response_format = request.body["response_format"]
    assert response_format["json_schema"]["strict"] is True
    category = response_format["json_schema"]["schema"]["properties"]["category"]
    assert category["enum"] == taxonomy.names


def test_invalid_category_raises(fake_openai: FakeOpenAI, classifier: LLMClassifier) -> None:
    fake_openai.script(Reply.json(answer("billing_disputes")))

    with pytest.raises(LLMClassificationError) as caught:
        classifier.classify("please refund my fees")

    assert caught.value.reason == "invalid_category"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        pytest.param(Reply.text("webhooks"), "malformed_json", id="not-json"),
        pytest.param(Reply.json(answer(priority="urgent")), "schema_validation", id="priority"),
        pytest.param(Reply.json(answer(confidence=1.5)), "schema_validation", id="confidence"),
        pytest.param(Reply.json({"category": "webhooks"}), "schema_validation", id="partial"),
        pytest.param(Reply.status(500), "http_500", id="500"),
    ],
)
def test_failures_raise_a_typed_error(
    fake_openai: FakeOpenAI, classifier: LLMClassifier, reply: Reply, reason: str
) -> None:
    fake_openai.script(reply)

    with pytest.raises(LLMClassificationError) as caught:
        classifier.classify("webhooks are not arriving")

    assert caught.value.reason == reason


def test_timeout_raises_a_typed_error(fake_openai: FakeOpenAI, taxonomy: Taxonomy) -> None:
    classifier = llm_classifier(llm_settings(fake_openai, llm_timeout_seconds=0.5), taxonomy)
    fake_openai.script(Reply.delay(5))

    with pytest.raises(LLMClassificationError) as caught:
        classifier.classify("webhooks are not arriving")

    assert caught.value.reason == "timeout"


def test_blocked_remote_model_raises_without_any_request(
    fake_openai: FakeOpenAI, taxonomy: Taxonomy
) -> None:
    settings = llm_settings(fake_openai, openai_base_url=None, openai_api_key="sk-test-not-real")
    classifier = llm_classifier(settings, taxonomy)

    with pytest.raises(LLMClassificationError) as caught:
        classifier.classify("webhooks are not arriving")

    assert caught.value.reason == "remote_model_blocked"
    assert fake_openai.requests == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [("Spanish", "es"), ("pt-BR", "pt"), ("ES", "es"), ("klingon", None), (None, None)],
)
def test_language_is_normalised_to_a_code(
    fake_openai: FakeOpenAI, classifier: LLMClassifier, given: str | None, expected: str | None
) -> None:
    fake_openai.script(Reply.json(answer(language=given)))

    result = classifier.classify("¿Por qué no llegan los webhooks?")

    assert result.language == expected


def test_optional_fields_may_be_null(fake_openai: FakeOpenAI, classifier: LLMClassifier) -> None:
    fake_openai.script(
        Reply.json(answer("other", priority=None, sentiment=None, language=None, reason=None))
    )

    result = classifier.classify("hello?")

    assert (result.category, result.priority, result.sentiment, result.reason) == (
        "other",
        None,
        None,
        "",
    )


def test_classifier_model_setting_is_used(fake_openai: FakeOpenAI, taxonomy: Taxonomy) -> None:
    settings = llm_settings(fake_openai, llm_classifier_model="small-classifier")
    fake_openai.script(Reply.json(answer()))

    result = llm_classifier(settings, taxonomy).classify("webhooks are not arriving")

    assert fake_openai.chat_requests[0].body["model"] == "small-classifier"
    assert result.model == "small-classifier"


def test_a_long_message_is_cut_before_it_is_sent(
    fake_openai: FakeOpenAI, classifier: LLMClassifier
) -> None:
    fake_openai.script(Reply.json(answer()))
    log_line = "2025-01-01T00:00:00Z webhook delivery attempt failed status=500\n"

    classifier.classify("Webhooks fail:\n" + log_line * 2000)

    (request,) = fake_openai.chat_requests
    assert len(request.raw) < len(log_line) * 500
