"""Fixtures for the conversation tests: the API fixtures of tests/api, over a corpus
that also holds the webhooks page (the follow-up tests ask about webhook signatures)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.api.conftest import api, kb, kb_settings, make_api, pipeline
from tests.app.slack.conftest import fake_slack
from tests.conftest import GRID_ROOT, GRID_SAMPLE

__all__ = ["api", "fake_slack", "kb", "kb_settings", "make_api", "pipeline"]

WEBHOOKS_PAGE = "docs/guides/api-reference/webhooks.md"


@pytest.fixture(scope="session")
def api_corpus(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    dest = tmp_path_factory.mktemp("convo-corpus") / "corpus"
    for page in [*GRID_SAMPLE, WEBHOOKS_PAGE]:
        target = dest / page
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(GRID_ROOT / page, target)
    return dest
