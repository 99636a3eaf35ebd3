"""Start-up trains the taxonomy classifier, so no ticket waits for it."""

from __future__ import annotations

from pathlib import Path

import yaml

from app.knowledge import build_knowledge_base
from app.services.runtime import build_runtime
from app.settings import Settings
from app.triage.classify.taxonomy import load_taxonomy


def _small_taxonomy(tmp_path: Path) -> Path:
    """The built-in categories with three examples each: a model no other test has cached,
    trained in seconds (the whole taxonomy and its labelled messages take half a minute)."""
    document = load_taxonomy().model_dump(mode="json")
    document.pop("labelled_messages_file", None)
    document.pop("labelled_messages", None)
    for category in document["categories"].values():
        category["examples"] = category["examples"][:3]
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_start_up_trains_the_classifier_before_any_message(
    tmp_path: Path, models_dir: Path, grid_sample: Path
) -> None:
    cached_before = set(models_dir.glob("taxonomy-*.joblib"))
    settings = Settings(
        data_dir=tmp_path / "data",
        models_dir=models_dir,
        taxonomy_path=_small_taxonomy(tmp_path),
    )
    kb = build_knowledge_base(settings, refresh_seconds=0)
    assert kb.synchronizer().sync([grid_sample]).docs_failed == 0

    runtime = build_runtime(settings, kb=kb)
    try:
        trained = set(models_dir.glob("taxonomy-*.joblib")) - cached_before
        assert trained, "no classifier trained at start-up"
    finally:
        runtime.close()
