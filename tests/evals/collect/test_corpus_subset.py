"""The CI corpus subset: the dataset's gold pages plus a stable pick of distractors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.collect.corpus_subset import build_subset, pick_documents
from evals.datasets.loader import EvalItem, load_jsonl

REPO = Path(__file__).resolve().parents[3]
DEV_SET = REPO / "evals" / "datasets" / "grid_dev.jsonl"
ROWS = ("grid-031", "grid-050", "grid-011", "grid-047", "grid-009", "grid-055")


@pytest.fixture(scope="module")
def items() -> list[EvalItem]:
    by_id = {i.id: i for i in load_jsonl(DEV_SET)}
    return [by_id[row] for row in ROWS]


def test_subset_picks_gold_pages_and_stable_distractors(
    items: list[EvalItem], grid_root: Path, tmp_path: Path
) -> None:
    gold, extra = pick_documents(grid_root, items, 5)
    assert set(gold) == {d for i in items for d in i.gold_doc_ids}
    assert len(extra) == 5
    assert not set(extra) & set(gold)
    assert pick_documents(grid_root, items, 5) == (gold, extra)

    dest = build_subset(grid_root, items, 5, tmp_path / "subset")
    copied = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*.md"))
    assert copied == sorted(f"{d}.md" for d in [*gold, *extra])
    manifest = [json.loads(line) for line in (dest / "manifest.jsonl").read_text().splitlines()]
    assert sorted(r["path"] for r in manifest) == copied
