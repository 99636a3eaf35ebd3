"""The taxonomy file and the labelled support messages it names (offline training data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from app.triage.classify.llm_classifier import render_categories
from app.triage.classify.taxonomy import TaxonomyError, load_taxonomy
from app.triage.screen.secrets import redact_secrets
from evals.datasets.labelled_for_classifier import GATE_SET, labelled_rows
from evals.datasets.loader import load_jsonl

REPO = Path(__file__).parents[4]


def _write(tmp_path: Path, lines: list[str], **extra: object) -> Path:
    taxonomy = yaml.safe_load((REPO / "app/triage/classify/taxonomy.yaml").read_text("utf-8")) | {
        "labelled_messages_file": "mine.jsonl",
        **extra,
    }
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(taxonomy), "utf-8")
    (tmp_path / "mine.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_builtin_taxonomy_trains_on_its_labelled_messages_too() -> None:
    taxonomy = load_taxonomy()
    texts, labels = taxonomy.training_pairs()
    written = sum(len(c.examples) for c in taxonomy.categories.values())
    assert len(taxonomy.labelled_messages) >= 500
    assert len(texts) == written + len(taxonomy.labelled_messages)
    assert set(labels) == set(taxonomy.categories)


def test_labelled_messages_hold_no_secret_and_no_gated_eval_row() -> None:
    taxonomy = load_taxonomy()
    gated = {i.id for i in load_jsonl(REPO / f"evals/datasets/{GATE_SET}.jsonl")}
    assert not gated & {m.source for m in taxonomy.labelled_messages}
    assert all(not redact_secrets(m.text).redactions for m in taxonomy.labelled_messages)


def test_the_committed_file_is_what_the_generator_writes() -> None:
    # Dataset labels fixed later (labelling_rules.yaml) must reach the classifier.
    committed = [
        json.loads(line)
        for line in (REPO / "app/triage/classify/labelled_messages.jsonl").read_text().splitlines()
    ]
    assert committed == labelled_rows()


def test_the_llm_prompt_shows_written_examples_only() -> None:
    taxonomy = load_taxonomy()
    rendered = render_categories(taxonomy)
    assert not any(m.text in rendered for m in taxonomy.labelled_messages[:50])


def test_a_custom_taxonomy_reads_the_file_beside_it(tmp_path: Path) -> None:
    line = json.dumps(
        {"text": "our payouts to CLABE accounts bounce", "category": "transfers_payments"}
    )
    taxonomy = load_taxonomy(_write(tmp_path, [line]))
    assert [m.category for m in taxonomy.labelled_messages] == ["transfers_payments"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"text": "hi", "category": "no_such_category"}', "unknown categories"),
        ("{not json", "line 2"),
        ('{"category": "cards"}', "line 2"),
    ],
)
def test_a_bad_labelled_file_is_named_with_its_problem(
    tmp_path: Path, line: str, problem: str
) -> None:
    good = json.dumps({"text": "card declined at checkout", "category": "cards"})
    with pytest.raises(TaxonomyError, match=problem):
        load_taxonomy(_write(tmp_path, [good, line]))


def test_a_missing_labelled_file_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, [], labelled_messages_file="absent.jsonl")
    with pytest.raises(TaxonomyError, match=r"absent\.jsonl"):
        load_taxonomy(path)
