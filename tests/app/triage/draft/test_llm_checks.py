"""The LLM path against servers and models as they are in the field (issue 16).

Each test scripts the loopback fake with one failure seen against real servers: an
unsupported sentence, an invented endpoint or enum value, a schema echo, a server that
refuses `json_schema`, one that never stops generating, a placeholder classification —
and checks it is caught, with the structured-output mode and the reason in provenance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.services.pipelines import llm_classifier, llm_drafter
from app.settings import Settings
from app.triage.classify.categorize import DISAGREEMENT_FLAG, CategoryClassifier
from app.triage.classify.llm_classifier import LLMClassificationError, LLMClassifier
from app.triage.classify.taxonomy import load_taxonomy
from app.triage.draft.llm_drafter import LLMDrafter
from app.triage.draft.phrases import holding_reply
from tests.app.triage.draft.test_llm_drafter import QUOTE_TEXT, make_hit, make_request, output
from tests.fakes import FakeOpenAI, Reply, llm_settings

EXECUTE_TEXT = (
    "Create a quote with `POST /quotes`, then execute it with "
    "`POST /quotes/{quoteId}/execute` before it expires. The transaction `status` moves "
    "from `PENDING` to `PROCESSING` and then `COMPLETED`."
)
HITS = [make_hit("quotes-1", QUOTE_TEXT), make_hit("execute-1", EXECUTE_TEXT, 1)]
EXECUTE_QUOTE = {"chunk_id": "execute-1", "quote": "then execute it with"}
_QUOTE_CITE = {"chunk_id": "quotes-1", "quote": "Quotes expire after 30 seconds"}


@pytest.fixture
def spec_settings(fake_openai: FakeOpenAI, grid_root: Path) -> Settings:
    return llm_settings(fake_openai, openapi_specs=[grid_root / "openapi.yaml"])


def test_a_supported_answer_passes_every_check(
    fake_openai: FakeOpenAI, spec_settings: Settings
) -> None:
    answer = (
        "Quotes expire after 30 seconds. Execute the quote with "
        "`POST /quotes/{quoteId}/execute` before it expires; the `status` then moves to "
        "`PROCESSING`."
    )
    fake_openai.script(Reply.json(output(answer, [EXECUTE_QUOTE, _QUOTE_CITE])))

    draft = llm_drafter(spec_settings).draft(make_request(hits=HITS))

    assert not draft.needs_human, draft.reason
    assert draft.text == answer
    checks = draft.provenance.checks
    assert checks is not None
    assert checks.sentences_checked == 2
    assert not checks.blocks_auto_send
    assert draft.provenance.structured_mode == "json_schema"
    assert fake_openai.chat_requests[0].body["max_tokens"] == spec_settings.llm_max_tokens


def test_an_unsupported_sentence_is_removed_and_blocks_auto_send(
    fake_openai: FakeOpenAI, drafter: LLMDrafter
) -> None:
    invented = "Expired quotes are refunded automatically within two business days."
    fake_openai.script(Reply.json(output(f"Quotes expire after 30 seconds. {invented}")))

    draft = drafter.draft(make_request())

    assert draft.text == "Quotes expire after 30 seconds."
    assert draft.needs_human
    assert draft.reason is not None
    assert "unsupported_claims" in draft.reason
    assert draft.provenance.checks is not None
    assert draft.provenance.checks.unsupported_sentences == [invented]
    assert draft.provenance.structured_mode == "json_schema"


def test_a_changed_number_is_an_unsupported_claim(
    fake_openai: FakeOpenAI, drafter: LLMDrafter
) -> None:
    fake_openai.script(Reply.json(output("Quotes expire after 15 minutes, so execute them.")))

    draft = drafter.draft(make_request())

    assert draft.needs_human
    assert draft.text == holding_reply(None, "en"), "nothing supported is left to show"
    assert draft.provenance.checks is not None
    assert draft.provenance.checks.unsupported_sentences


def test_an_invented_endpoint_is_flagged(fake_openai: FakeOpenAI, spec_settings: Settings) -> None:
    answer = "Quotes expire after 30 seconds; call `POST /quotes/{quoteId}/renew` to extend one."
    fake_openai.script(Reply.json(output(answer, [_QUOTE_CITE])))

    draft = llm_drafter(spec_settings).draft(make_request(hits=HITS))

    assert draft.needs_human
    assert draft.provenance.checks is not None
    assert draft.provenance.checks.unknown_api_names == ["POST /quotes/{quoteId}/renew"]
    assert draft.reason is not None
    assert "unknown_api_names: POST /quotes/{quoteId}/renew" in draft.reason


def test_a_real_path_with_the_wrong_method_is_flagged(
    fake_openai: FakeOpenAI, spec_settings: Settings
) -> None:
    answer = "Execute the quote with `DELETE /quotes/{quoteId}/execute` before it expires."
    fake_openai.script(Reply.json(output(answer, [EXECUTE_QUOTE])))

    draft = llm_drafter(spec_settings).draft(make_request(hits=HITS))

    assert draft.provenance.checks is not None
    assert draft.provenance.checks.unknown_api_names == ["DELETE /quotes/{quoteId}/execute"]


def test_an_invented_enum_value_is_flagged(
    fake_openai: FakeOpenAI, spec_settings: Settings
) -> None:
    answer = "After you execute the quote, the transaction `status` moves to `SETTLED_OK`."
    fake_openai.script(Reply.json(output(answer, [EXECUTE_QUOTE])))

    draft = llm_drafter(spec_settings).draft(make_request(hits=HITS))

    assert draft.needs_human
    assert draft.provenance.checks is not None
    assert draft.provenance.checks.unknown_api_names == ["SETTLED_OK"]


@pytest.mark.parametrize(
    "echo",
    ["Markdown reply to the customer", "The reply to the customer, in Markdown.", "string"],
)
def test_a_schema_echo_never_reaches_a_reviewer(
    fake_openai: FakeOpenAI, drafter: LLMDrafter, echo: str
) -> None:
    fake_openai.script(Reply.json(output(echo, confidence=0.8)))

    draft = drafter.draft(make_request())

    assert draft.text == holding_reply(None, "en")
    assert echo not in draft.text
    assert draft.needs_human
    assert draft.reason == "llm_error: schema_echo"
    assert draft.provenance.drafter == "handoff"
    assert draft.provenance.error == "schema_echo"
    assert draft.provenance.structured_mode == "json_schema"


def test_a_server_refusing_json_schema_gets_json_object_and_it_is_remembered() -> None:
    with FakeOpenAI(refuse_json_schema=True) as fake:
        drafter = llm_drafter(llm_settings(fake))
        fake.script(Reply.json(output()), Reply.json(output()))

        first = drafter.draft(make_request())
        second = drafter.draft(make_request())

        formats = [r.body["response_format"]["type"] for r in fake.chat_requests]
    assert formats == ["json_schema", "json_object", "json_object"]
    assert not first.needs_human, first.reason
    assert first.provenance.structured_mode == "json_object"
    assert second.provenance.structured_mode == "json_object"


def test_a_server_refusing_both_formats_gets_a_forced_tool_call() -> None:
    with FakeOpenAI(refuse_json_schema=True, refuse_json_object=True) as fake:
        drafter = llm_drafter(llm_settings(fake))
        fake.script(Reply.json(output()))

        draft = drafter.draft(make_request())

        last = fake.chat_requests[-1].body
    assert not draft.needs_human, draft.reason
    assert draft.provenance.structured_mode == "tool_call"
    assert last["tool_choice"]["function"]["name"] == "draft_reply"
    assert "response_format" not in last


def test_a_model_that_never_stops_is_cut_by_the_token_cap(fake_openai: FakeOpenAI) -> None:
    drafter = llm_drafter(llm_settings(fake_openai, llm_max_tokens=64, llm_max_retries=2))
    fake_openai.script(Reply.runaway(), Reply.json(output()))

    draft = drafter.draft(make_request())

    (request,) = fake_openai.chat_requests  # no retry, no second mode
    assert request.body["max_tokens"] == 64
    assert draft.needs_human
    assert draft.reason == "llm_error: truncated"
    assert draft.provenance.error == "truncated"
    assert draft.provenance.structured_mode == "json_schema"
    assert draft.provenance.completion_tokens is not None, "what the cut answer cost"


def test_a_timed_out_request_is_not_retried(fake_openai: FakeOpenAI) -> None:
    drafter = llm_drafter(llm_settings(fake_openai, llm_timeout_seconds=0.5, llm_max_retries=2))
    fake_openai.script(Reply.delay(5, then=Reply.json(output())), Reply.json(output()))

    draft = drafter.draft(make_request())

    assert len(fake_openai.chat_requests) == 1
    assert draft.reason == "llm_error: timeout"
    assert fake_openai.pending == 1


def test_provenance_error_is_a_code_never_the_servers_text() -> None:
    with FakeOpenAI(refuse_json_schema=True, refuse_json_object=True) as fake:
        fake.script(Reply.status(500, "Traceback: /srv/llama/server.py line 3: boom"))
        draft = llm_drafter(llm_settings(fake)).draft(make_request())
    assert draft.provenance.error == "http_500"
    assert draft.reason == "llm_error: http_500"


# -- classification -------------------------------------------------------------------


def _classification(**overrides: Any) -> dict[str, Any]:
    return {
        "category": "webhooks",
        "confidence": 0.9,
        "priority": "P3",
        "language": "en",
        "sentiment": "neutral",
        "reason": "signature verification of webhook deliveries",
        **overrides,
    }


def test_a_copied_classification_example_is_rejected(fake_openai: FakeOpenAI) -> None:
    classifier = llm_classifier(llm_settings(fake_openai), load_taxonomy())
    fake_openai.script(Reply.json(_classification(category="other", reason="short explanation")))

    with pytest.raises(LLMClassificationError) as caught:
        classifier.classify("How do I verify the webhook signature header?")

    assert caught.value.reason == "placeholder_echo"
    assert caught.value.mode == "json_schema"
    assert fake_openai.chat_requests[0].body["max_tokens"] == 256


def test_classification_falls_back_through_modes_too() -> None:
    with FakeOpenAI(refuse_json_schema=True) as fake:
        classifier = llm_classifier(llm_settings(fake), load_taxonomy())
        fake.script(Reply.json(_classification()))
        result = classifier.classify("How do I verify the webhook signature header?")
    assert result.structured_mode == "json_object"


# -- settings ---------------------------------------------------------------------------


def test_a_chat_endpoint_does_not_switch_embeddings() -> None:
    chat_only = Settings(openai_base_url="http://127.0.0.1:8080/v1", openai_api_key="sk-x")
    asked = Settings(openai_base_url="http://127.0.0.1:8080/v1", embedding_provider="openai")

    assert chat_only.resolved_embedding_provider == "local"
    assert chat_only.resolved_embedding_model == "all-MiniLM-L6-v2"
    assert asked.resolved_embedding_provider == "openai"


@pytest.fixture
def drafter(fake_openai: FakeOpenAI) -> LLMDrafter:
    return llm_drafter(llm_settings(fake_openai))


# -- the LLM against a confident offline classifier --------------------------------------


@pytest.fixture
def categorizer_parts(
    fake_openai: FakeOpenAI, minilm: Any, models_dir: Path
) -> tuple[LLMClassifier, dict[str, Any]]:
    taxonomy = load_taxonomy()
    llm = llm_classifier(llm_settings(fake_openai), taxonomy)
    kwargs = {
        "taxonomy": taxonomy,
        "embeddings": minilm,
        # The session's trained taxonomy model (keyed by taxonomy and model): these tests
        # are about the LLM rule, not training.
        "cache_dir": models_dir,
        "model_name": "all-MiniLM-L6-v2",
        "llm": llm,
    }
    return llm, kwargs


def test_a_confident_offline_category_stands_against_a_disagreeing_llm(
    fake_openai: FakeOpenAI, categorizer_parts: tuple[LLMClassifier, dict[str, Any]]
) -> None:
    _, kwargs = categorizer_parts
    classifier = CategoryClassifier(**kwargs, min_offline_confidence=0.9)
    fake_openai.script(
        Reply.json(_classification(category="other", confidence=0.9, reason="not sure"))
    )

    decision = classifier.classify("How do I verify the webhook signature header?")

    assert decision.category == "webhooks"
    assert decision.source == "offline"
    assert decision.confidence >= 0.9
    assert DISAGREEMENT_FLAG in decision.flags
    assert decision.llm is not None
    assert decision.llm.category == "other"
    assert decision.llm_mode == "json_schema"


def test_the_llm_decides_when_it_agrees_or_the_offline_one_is_unsure(
    fake_openai: FakeOpenAI, categorizer_parts: tuple[LLMClassifier, dict[str, Any]]
) -> None:
    _, kwargs = categorizer_parts
    classifier = CategoryClassifier(**kwargs, min_offline_confidence=0.999)
    fake_openai.script(
        Reply.json(_classification(category="webhooks", confidence=0.8)),
        Reply.json(_classification(category="sandbox_testing", confidence=0.7)),
    )

    agreeing = classifier.classify("How do I verify the webhook signature header?")
    unsure = classifier.classify("the quote expired before I could execute it, QUOTE_EXPIRED")

    assert (agreeing.category, agreeing.source, agreeing.flags) == ("webhooks", "llm", ())
    assert (unsure.category, unsure.source, unsure.flags) == ("sandbox_testing", "llm", ())


def test_a_placeholder_classification_does_not_reroute_a_ticket(
    fake_openai: FakeOpenAI, categorizer_parts: tuple[LLMClassifier, dict[str, Any]]
) -> None:
    _, kwargs = categorizer_parts
    classifier = CategoryClassifier(**kwargs)
    fake_openai.script(Reply.json(_classification(category="other", reason="short explanation")))

    decision = classifier.classify("every call returns 401 unauthorized, how do I authenticate?")

    assert decision.category == "auth_api_access"
    assert decision.source == "offline"
    assert decision.fallback_error == "placeholder_echo"
    assert decision.llm_mode == "json_schema"


@pytest.mark.parametrize(
    ("first", "modes"),
    [
        pytest.param(
            Reply.status(400, "Invalid parameter: 'response_format' of type 'json_schema'"),
            ["json_schema", "json_object"],
            id="400-naming-the-format",
        ),
        pytest.param(
            Reply.status(400, "Requested tokens exceed context window of 2048"),
            ["json_schema"],
            id="400-about-the-prompt",
        ),
        pytest.param(Reply.status(429, "rate limited"), ["json_schema"], id="429"),
    ],
)
def test_only_a_refusal_of_the_format_moves_to_the_next_mode(
    fake_openai: FakeOpenAI, drafter: LLMDrafter, first: Reply, modes: list[str]
) -> None:
    fake_openai.script(first, Reply.json(output()))

    drafter.draft(make_request())

    sent = [r.body["response_format"]["type"] for r in fake_openai.chat_requests]
    assert sent == modes
