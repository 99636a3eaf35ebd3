"""Fixtures for the operations tests: the metric fixture loaded into a fresh database of
each backend (``loaded``); the API tests' small Grid knowledge base and its offline pipeline
(ingested and trained once per session); and one short demo history written into SQLite
that the history, metrics and report tests read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from app.knowledge import KnowledgeBase
from app.operations.demo.config import DemoConfig, load_demo_config
from app.operations.demo.history import HistoryReport, HistoryRequest, write_history
from app.services.runtime import Pipeline
from app.settings import Settings
from app.store.db import create_engine_for, session_factory
from tests.api.conftest import api_corpus, kb, kb_settings, pipeline
from tests.app.operations import metric_fixture
from tests.conftest import SHARED_DATA

__all__ = ["api_corpus", "kb", "kb_settings", "pipeline"]

END = date(2026, 3, 16)  # a Monday: the history is the two ISO weeks before it
DAYS = 14
SEED = 5


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    """The metric fixture (metric_fixture.py) in a fresh database of the test's backend."""
    with session_factory(engine).begin() as session:
        metric_fixture.load(session)
    return engine


def small_config() -> DemoConfig:
    """The built-in process at a tenth of its volume: same shape, a quick replay.  The
    help page takes every widget question and answers down to 0.3: the small sample
    index's drafts are less confident than the Grid corpus's, and a tenth of the volume
    would leave the self-service figures a handful of answers.  For the same reason its
    askers come back more often (a dozen answers left none coming back at the built-in
    rates once the confidence model was refitted)."""
    config = load_demo_config()
    arrivals = config.arrivals.model_copy(update={"base_per_day": 10.0})
    assert config.self_service is not None
    comes_back = config.self_service.comes_back.model_copy(
        update={"not_helpful": 0.9, "silent": 0.5}
    )
    help_page = config.self_service.model_copy(
        update={"widget_share": 1.0, "answer_min_confidence": 0.3, "comes_back": comes_back}
    )
    return config.model_copy(update={"arrivals": arrivals, "self_service": help_page})


@dataclass(frozen=True)
class WrittenHistory:
    settings: Settings
    report: HistoryReport

    @property
    def url(self) -> str:
        return self.settings.resolved_database_url


def write_small_history(
    tmp: Path, kb_settings: Settings, kb: KnowledgeBase, pipeline: Pipeline, name: str
) -> WrittenHistory:
    settings = kb_settings.model_copy(update={"database_url": f"sqlite:///{tmp / name}.db"})
    request = HistoryRequest(
        days=DAYS,
        seed=SEED,
        end=END,
        config=small_config(),
        eval_dir=SHARED_DATA / "eval",
    )
    report = write_history(settings, request, kb=kb, pipeline=pipeline)
    return WrittenHistory(settings, report)


@pytest.fixture(scope="session")
def demo_history(
    tmp_path_factory: pytest.TempPathFactory,
    kb_settings: Settings,
    kb: KnowledgeBase,
    pipeline: Pipeline,
) -> WrittenHistory:
    tmp = tmp_path_factory.mktemp("demo-history")
    return write_small_history(tmp, kb_settings, kb, pipeline, "first")


def read_store(url: str, fn: Callable[[Any], Any]) -> Any:
    """Run `fn(session)` against a written history's database and close the engine."""
    engine = create_engine_for(url)
    try:
        with session_factory(engine)() as session:
            return fn(session)
    finally:
        engine.dispose()
