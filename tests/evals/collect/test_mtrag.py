"""MTRAG-UN in the reference setting: drafts over the gold passages, abstention by class."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from app.knowledge import build_knowledge_base
from app.settings import Settings
from app.triage.pipeline import TriagePipeline
from evals.collect.mtrag import cosine_scores, reference_hits
from evals.datasets.loader import EvalItem, load_dataset
from evals.score.scoring import by_class_metrics
from evals.workflow import EvalRun, RunOptions, run_eval
from tests.app.cli.test_eval_cmd import invoke

# Per class: how many tasks to take (10 in all), those with passages first where the
# class has them, so the drafter and the support score are exercised.
PER_CLASS = {"ANSWERABLE": 4, "UNANSWERABLE": 2, "UNDERSPECIFIED": 2, "PARTIAL": 2}


@pytest.fixture(scope="module")
def tasks_file(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = shared_data / "eval" / "mtrag_un_reference_tasks.jsonl"
    wanted = dict(PER_CLASS)
    picked = []
    with source.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            label = row["answerability"][0]
            short = sum(len(c) for c in row["reference_contexts"]) < 6000
            if wanted.get(label, 0) > 0 and short:
                picked.append(line)
                wanted[label] -= 1
            if not any(wanted.values()):
                break
    path = tmp_path_factory.mktemp("mtrag") / "mtrag_sample.jsonl"
    path.write_text("".join(picked), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def items(tasks_file: Path) -> list[EvalItem]:
    return load_dataset(tasks_file)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> TriagePipeline:
    from app.services.pipelines import build_pipeline

    # No documents: the reference setting never retrieves, it drafts over given passages.
    settings = Settings(data_dir=tmp_path_factory.mktemp("mtrag-data"), models_dir=models_dir)
    return build_pipeline(settings, build_knowledge_base(settings))


@pytest.fixture(scope="module")
def run(items: list[EvalItem], pipeline: TriagePipeline) -> EvalRun:
    return run_eval(items, pipeline, RunOptions(dataset="mtrag", show_progress=False))


def test_mtrag_run_scores_abstention_by_answerability(run: EvalRun) -> None:
    m = run.metrics
    assert m["run"]["mode"] == "mtrag_reference"
    assert m["run"]["n_items"] == 10
    assert "retrieval" not in m  # the gold ids point into corpora we do not have
    assert "classification" not in m
    abstention = m["abstention"]
    assert abstention["n"] == 10
    assert abstention["tp"] + abstention["fn"] == 6  # PARTIAL counts as not answerable
    by_class = abstention["by_class"]
    assert set(by_class) == {"answerable", "unanswerable", "underspecified", "partial"}
    assert by_class["answerable"]["n"] == 4
    assert 0.0 <= by_class["answerable"]["escalation_rate"] <= 1.0
    for label in ("unanswerable", "underspecified", "partial"):
        assert by_class[label]["n"] == 2
        assert 0.0 <= by_class[label]["recall"] <= 1.0
    answers = m["answers"]
    assert answers["n"]["rouge_l"] == 10
    assert answers["n"]["context_recall_nonllm"] == 0  # given passages: nothing to measure
    assert answers.get("citation_validity", 1.0) == 1.0


def test_tasks_without_passages_are_handed_off(run: EvalRun, items: list[EvalItem]) -> None:
    records = {r["id"]: r for r in run.records}
    for item in items:
        if not item.reference_contexts:
            record = records[item.id]
            assert record["needs_human"] is True
            assert record["reason"] == "insufficient_documentation"


def test_answered_drafts_cite_their_passages(run: EvalRun, items: list[EvalItem]) -> None:
    gold = {i.id: set(i.gold_doc_ids) for i in items}
    for record in run.records:
        if not record["needs_human"]:
            assert record["draft"]
            assert record["cited"], record["id"]
            assert set(record["cited"]) <= gold[record["id"]] | {f"p{n}" for n in range(40)}


class _Vectors:
    """Embeddings double: fixed vectors per text."""

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table

    def embed_query(self, text: str) -> list[float]:
        return self.table[text]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.table[t] for t in texts]


def test_passages_become_hits_ranked_by_cosine() -> None:
    vectors = _Vectors({"q": [1.0, 0.0], "far": [0.0, 2.0], "near": [3.0, 1.0], "mid": [1.0, 1.0]})
    item = EvalItem(
        id="t",
        message="q",
        reference_contexts=["far", "near", "mid", "  "],
        gold_doc_ids=["d-far", "d-near", "d-mid", "d-empty"],
    )
    assert cosine_scores(vectors, "q", []) == []
    hits = reference_hits(item, vectors, k=2)
    assert [h.text for h in hits] == ["near", "mid"]
    assert hits[0].dense_score == pytest.approx(3 / 10**0.5)
    assert hits[0].chunk_id == "t#1"
    # Blank passages are dropped, so ids no longer line up with texts: synthetic doc ids.
    assert hits[0].doc_id == "p1"


def test_by_class_figures_follow_the_records(run: EvalRun, items: list[EvalItem]) -> None:
    label = {i.id: str((i.model_extra or {})["answerability"]).lower() for i in items}
    escalated: dict[str, list[bool]] = {}
    for record in run.records:
        escalated.setdefault(label[record["id"]], []).append(record["needs_human"])
    by_class = run.metrics["abstention"]["by_class"]
    share = {k: sum(v) / len(v) for k, v in escalated.items()}
    assert by_class["answerable"]["escalation_rate"] == pytest.approx(share["answerable"])
    for name in ("unanswerable", "underspecified", "partial"):
        assert by_class[name]["recall"] == pytest.approx(share[name])
        tp, fp = sum(escalated[name]), sum(escalated["answerable"])
        if tp + fp:
            assert by_class[name]["precision"] == pytest.approx(tp / (tp + fp))
    assert by_class_metrics([]) == {}


def test_cli_dispatches_mtrag_files_without_a_knowledge_base(
    tasks_file: Path, tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRIAGE_MODELS_DIR", str(models_dir))
    code, stdout, stderr = invoke(["eval", str(tasks_file), "--limit", "3", "--json"])
    assert code == 0, stderr
    metrics = json.loads(stdout)
    assert metrics["run"]["mode"] == "mtrag_reference"
    assert metrics["run"]["n_items"] == 3
