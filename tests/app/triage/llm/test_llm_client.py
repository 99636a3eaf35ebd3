"""The chat client factory (and its loopback-only switch), and the fake server itself."""

from __future__ import annotations

import base64
import struct

import openai
import pytest

from app.services.pipelines import llm_config
from app.settings import Settings
from app.triage.llm.client import (
    LLMNotConfigured,
    RemoteModelBlocked,
    build_chat_model,
    is_loopback_url,
)
from tests.fakes import FakeOpenAI, Reply, llm_settings


def test_remote_model_blocked_when_no_base_url_is_set() -> None:
    settings = Settings(openai_api_key="sk-test-not-real", block_remote_models=True)
    with pytest.raises(RemoteModelBlocked, match=r"api\.openai\.com"):
        build_chat_model(llm_config(settings))


def test_remote_model_blocked_for_a_non_loopback_base_url() -> None:
    settings = Settings(openai_base_url="http://10.0.0.8:8000/v1", block_remote_models=True)
    with pytest.raises(RemoteModelBlocked):
        build_chat_model(llm_config(settings))


def test_the_suite_blocks_remote_models_by_default() -> None:
    # tests/conftest.py sets TRIAGE_BLOCK_REMOTE_MODELS; settings read from the environment
    # must refuse a real provider even with a key configured.
    with pytest.raises(RemoteModelBlocked):
        build_chat_model(llm_config(Settings(openai_api_key="sk-test-not-real")))


def test_unconfigured_llm_is_a_clear_error() -> None:
    with pytest.raises(LLMNotConfigured):
        build_chat_model(llm_config(Settings(block_remote_models=False)))


def test_openai_default_is_built_when_not_blocked() -> None:
    settings = Settings(openai_api_key="sk-test-not-real", block_remote_models=False)
    model = build_chat_model(llm_config(settings))  # building sends nothing
    assert model.openai_api_base == "https://api.openai.com/v1"


def test_client_takes_its_settings(fake_openai: FakeOpenAI) -> None:
    settings = llm_settings(
        fake_openai, llm_timeout_seconds=7.5, llm_max_retries=3, llm_max_tokens=321
    )

    model = build_chat_model(llm_config(settings), model="my-model")

    assert model.model_name == "my-model"
    assert model.request_timeout == 7.5
    # The SDK would retry a timeout too; retries of transient errors happen in
    # `structured`, never of a timed-out request.
    assert model.max_retries == 0
    assert model.temperature == 0
    assert model.openai_api_base == fake_openai.base_url


def test_base_url_without_key_gets_a_placeholder_and_works(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.text("pong"))

    reply = build_chat_model(llm_config(llm_settings(fake_openai, openai_api_key=None))).invoke(
        "ping"
    )

    assert reply.content == "pong"
    assert fake_openai.chat_requests[0].body["max_tokens"] == Settings().llm_max_tokens
    headers = {k.lower(): v for k, v in fake_openai.requests[0].headers.items()}
    assert headers["authorization"].startswith("Bearer ")


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:11434/v1", True),
        ("http://127.8.9.10/v1", True),
        ("http://localhost:8000/v1", True),
        ("http://[::1]:8000/v1", True),
        ("https://api.openai.com/v1", False),
        ("http://localhost.attacker.example/v1", False),
        ("http://192.168.1.4:8000/v1", False),
        ("not a url", False),
        (None, False),
    ],
)
def test_is_loopback_url(url: str | None, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


def test_fake_embeddings_are_deterministic_in_both_encodings(fake_openai: FakeOpenAI) -> None:
    fake_openai.embedding_dim = 12
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key="test", max_retries=0)

    as_floats = client.embeddings.create(
        model="m", input=["alpha", "beta", "alpha"], encoding_format="float"
    )
    raw = client.embeddings.with_raw_response.create(
        model="m", input=["alpha"], encoding_format="base64"
    )
    encoded = raw.http_response.json()["data"][0]["embedding"]
    decoded = list(struct.unpack("<12f", base64.b64decode(encoded)))

    vectors = [d.embedding for d in as_floats.data]
    assert [len(v) for v in vectors] == [12, 12, 12]
    assert vectors[0] == vectors[2]
    assert vectors[0] != vectors[1]
    assert sum(x * x for x in vectors[0]) == pytest.approx(1.0)
    assert decoded == pytest.approx(vectors[0], abs=1e-6)
    assert fake_openai.requests[0].body["input"] == ["alpha", "beta", "alpha"]
