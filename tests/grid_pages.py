"""A knowledge base of a few real Grid pages, for tests that need the drafter on real text."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from app.knowledge import KnowledgeBase, build_knowledge_base
from app.services.pipelines import build_pipeline
from app.settings import Settings
from app.triage.pipeline import TriagePipeline
from app.triage.results import DraftReply
from tests.conftest import GRID_ROOT, embedding_cache_of


def copy_pages(dest: Path, pages: Sequence[str], root: Path = GRID_ROOT) -> Path:
    """Copy these corpus-relative pages under `dest`, keeping their paths (doc ids)."""
    for rel in pages:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / rel, target)
    return dest


def synced_knowledge_base(corpus: Path, settings: Settings) -> KnowledgeBase:
    """A knowledge base on `settings` with `corpus` synced into it, every page ingested."""
    kb = build_knowledge_base(settings, refresh_seconds=0)
    assert kb.synchronizer().sync([corpus]).docs_failed == 0
    return kb


def pages_pipeline(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path, name: str, pages: Sequence[str]
) -> TriagePipeline:
    """The offline pipeline over a knowledge base of just these pages, in fresh dirs."""
    corpus = copy_pages(tmp_path_factory.mktemp(f"{name}-corpus"), pages)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp(f"{name}-data"),
        models_dir=models_dir,
        embedding_cache_dir=embedding_cache_of(models_dir),
    )
    return build_pipeline(settings, synced_knowledge_base(corpus, settings))


def forced_draft(
    pipeline: TriagePipeline, message: str, monkeypatch: pytest.MonkeyPatch
) -> DraftReply:
    """The offline drafter's draft with its confidence floor at 0: which passage it picks,
    whatever the confidence model makes of it."""
    monkeypatch.setattr(pipeline.offline_drafter, "min_answer_probability", 0.0)
    return pipeline.offline_drafter.draft(pipeline.draft_request(message))
