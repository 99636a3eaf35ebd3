"""Start-up trains the taxonomy classifier, so no ticket waits for it."""

from __future__ import annotations

from pathlib import Path

from app.knowledge import build_knowledge_base
from app.services.runtime import build_runtime
from app.settings import Settings


def test_start_up_trains_the_classifier_before_any_message(
    tmp_path: Path, models_dir: Path, grid_sample: Path
) -> None:
    for cached in models_dir.glob("taxonomy-*.joblib"):
        cached.unlink()  # another test's cache would hide a lazy classifier
    settings = Settings(data_dir=tmp_path / "data", models_dir=models_dir)
    kb = build_knowledge_base(settings, refresh_seconds=0)
    assert kb.synchronizer().sync([grid_sample]).docs_failed == 0

    runtime = build_runtime(settings, kb=kb)
    try:
        assert list(models_dir.glob("taxonomy-*.joblib")), "no classifier trained at start-up"
    finally:
        runtime.close()
