"""Shared set-up for the benchmark scripts (run from the repo root: `python bench/X.py`)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()
GRID = SHARED_DATA / "corpus_grid"

os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(SHARED_DATA / "tiktoken"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(REPO))


def canonical_grid_copy(dest: Path) -> Path:
    """Copy the canonical Grid pages (one correct document per question) with their manifest."""
    rows = [json.loads(line) for line in (GRID / "manifest.jsonl").read_text().splitlines() if line]
    keep = [r for r in rows if r.get("canonical")]
    for row in keep:
        target = dest / row["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(GRID / row["path"], target)
    (dest / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in keep))
    return dest


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n== {title}")
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")
