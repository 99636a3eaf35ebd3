"""Test doubles that speak real protocols on loopback; fixtures to use them.

`fake_openai` is registered for tests/app/triage by its conftest; other test folders can
import it the same way (`from tests.fakes import fake_openai`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.settings import Settings
from tests.fakes.openai_server import FakeOpenAI, RecordedRequest, Reply

__all__ = ["FakeOpenAI", "RecordedRequest", "Reply", "fake_openai", "llm_settings"]


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def llm_settings(fake: FakeOpenAI, **overrides: Any) -> Settings:
    """Settings pointing every LLM client at `fake`: fast timeouts, no retries by default."""
    values: dict[str, Any] = {
        "openai_base_url": fake.base_url,
        "openai_api_key": None,
        "llm_timeout_seconds": 5.0,
        "llm_max_retries": 0,
        "block_remote_models": True,
    }
    values.update(overrides)
    return Settings(**values)
