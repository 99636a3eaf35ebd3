"""Build the chat model for any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, ...).

Everything the client needs comes in an `LLMConfig`, filled from `Settings` by the
composition root (app/services/pipelines.py); base URL and key are always passed
explicitly so neither langchain nor the openai SDK falls back to reading the environment
(or a LangSmith gateway variable) behind the settings' back.

Every request carries an output token cap and a deadline: a model that never stops
generating otherwise holds a one-slot server until it runs out of context.  The SDK's
own retries are off because it retries timeouts too, which asks a stuck server for the
same work twice; `structured` retries only transient server errors.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from app.triage.llm.config import LLMConfig

__all__ = [
    "DEFAULT_OPENAI_BASE_URL",
    "LLMNotConfigured",
    "RemoteModelBlocked",
    "build_chat_model",
    "is_loopback_url",
]

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
# Self-hosted servers (vLLM, Ollama) ignore the key, but the SDK refuses to start without one.
_PLACEHOLDER_KEY = "not-needed"


class LLMNotConfigured(RuntimeError):
    """Neither OPENAI_API_KEY nor OPENAI_BASE_URL is set."""


class RemoteModelBlocked(RuntimeError):
    """`block_remote_models` is on and the endpoint is not on this machine."""


def is_loopback_url(url: str | None) -> bool:
    if not url:
        return False
    host = urlsplit(url).hostname
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_chat_model(
    config: LLMConfig, *, model: str | None = None, max_tokens: int | None = None
) -> ChatOpenAI:
    """A deterministic (temperature 0) chat client; raises before any request is made.

    `model` and `max_tokens` default to the config's.  OpenAI itself gets the cap as
    `max_completion_tokens` (langchain's spelling); a compatible server gets the classic
    `max_tokens`, the one vLLM, Ollama and llama.cpp all read.
    """
    base_url = config.base_url
    if config.block_remote_models and not is_loopback_url(base_url):
        where = base_url or DEFAULT_OPENAI_BASE_URL
        raise RemoteModelBlocked(
            f"remote model endpoint {where} refused: block_remote_models is set"
        )
    if not config.enabled:
        raise LLMNotConfigured("set OPENAI_API_KEY and/or OPENAI_BASE_URL to use an LLM")
    api_key = config.api_key or SecretStr(_PLACEHOLDER_KEY)
    cap = max_tokens or config.max_tokens
    compatible = base_url is not None and base_url.rstrip("/") != DEFAULT_OPENAI_BASE_URL
    return ChatOpenAI(
        model=model or config.model,
        api_key=api_key,
        base_url=base_url or DEFAULT_OPENAI_BASE_URL,
        timeout=config.timeout_seconds,
        max_retries=0,
        max_tokens=None if compatible else cap,
        extra_body={"max_tokens": cap} if compatible else None,
        temperature=0,
        # Chat Completions is the API every OpenAI-compatible server implements.
        use_responses_api=False,
    )
