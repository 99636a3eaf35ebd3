"""evals/datasets/labelling_rules.yaml: every relabel it lists is applied, once, and only
to the sets it names; the taxonomy names every category it relabels to."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from app.triage.classify.taxonomy import load_taxonomy

DATASETS = Path(__file__).resolve().parents[4] / "evals" / "datasets"


def _rows(name: str) -> dict[str, dict[str, object]]:
    lines = (DATASETS / name).read_text("utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return {str(row["id"]): row for row in rows}


def test_every_listed_relabel_is_applied_to_its_row() -> None:
    rules = yaml.safe_load((DATASETS / "labelling_rules.yaml").read_text("utf-8"))["rules"]
    categories = set(load_taxonomy().categories)
    seen: set[str] = set()
    for rule in rules:
        assert rule["rule"].strip()
        assert rule["id"]
        for change in rule["relabelled"]:
            assert change["file"] != "grid_holdout_d.jsonl", "the untouched set is never relabelled"
            assert change["id"] not in seen, f"{change['id']} relabelled twice"
            seen.add(change["id"])
            assert {change["from"], change["to"]} <= categories
            row = _rows(change["file"])[change["id"]]
            assert row["category"] == change["to"], change
