"""The eval workflow's core (`run_eval`) on a tiny real run (real pages, real pipeline):
every labelled family is collected and scored, records explain items, the report and
the gate take the run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from app.knowledge import build_knowledge_base
from app.settings import Settings
from app.triage.pipeline import TriagePipeline
from evals.collect.corpus_subset import build_subset
from evals.collect.pipeline_mode import is_mtrag
from evals.datasets.loader import EvalItem, load_jsonl
from evals.gate import baseline_of, compare, load_tolerances
from evals.report.markdown import write_report
from evals.score.answers import AnswerSample, AnswerScores
from evals.score.graded import Grade, draft_digest, load_grades
from evals.workflow import EvalRun, RunOptions, run_eval
from tests.fakes import fake_openai

__all__ = ["fake_openai"]  # the fixture, registered for this module

REPO = Path(__file__).resolve().parents[2]
DEV_SET = REPO / "evals" / "datasets" / "grid_dev.jsonl"
# Small gold pages (a few chunks each), an unanswerable row, an injection and a secret.
ROWS = ("grid-031", "grid-050", "grid-011", "grid-047", "grid-009", "grid-055")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def items() -> list[EvalItem]:
    by_id = {i.id: i for i in load_jsonl(DEV_SET)}
    return [by_id[row] for row in ROWS]


@pytest.fixture(scope="module")
def pipeline(
    items: list[EvalItem],
    tmp_path_factory: pytest.TempPathFactory,
    models_dir: Path,
    grid_root: Path,
) -> TriagePipeline:
    from app.services.pipelines import build_pipeline

    corpus = build_subset(grid_root, items, 2, tmp_path_factory.mktemp("runner-corpus"))
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("runner-data"),
        models_dir=models_dir,
        openapi_specs=[grid_root / "openapi.yaml"],
    )
    kb = build_knowledge_base(settings, refresh_seconds=0)
    assert kb.synchronizer().sync([corpus]).docs_failed == 0
    return build_pipeline(settings, kb)


@pytest.fixture(scope="module")
def run(items: list[EvalItem], pipeline: TriagePipeline) -> EvalRun:
    return run_eval(items, pipeline, RunOptions(dataset="tiny", show_progress=False))


def _unit(value: Any) -> bool:
    return isinstance(value, float) and 0.0 <= value <= 1.0


def test_tiny_run_reports_every_labelled_family(run: EvalRun) -> None:
    m = run.metrics
    assert m["run"]["mode"] == "pipeline"
    assert m["run"]["n_items"] == len(ROWS)
    retrieval = m["retrieval"]
    assert retrieval["n_queries"] == 4  # the two unanswerable rows have no gold docs
    assert retrieval["n_skipped"] == 2
    for key in ("hit@1", "hit@3", "hit@5", "hit@10", "recall@10", "mrr@10", "ndcg@10"):
        assert _unit(retrieval[key]), key
    assert retrieval["hit@10"] >= retrieval["hit@1"]

    category = m["classification"]["category"]
    assert category["n"] == len(ROWS)
    assert _unit(category["accuracy"])
    assert _unit(category["macro_f1"])
    assert set(category["per_class"]) >= {"webhooks", "security", "cards"}
    assert _unit(m["classification"]["priority"]["accuracy"])
    assert "p1_recall" in m["classification"]  # grid-011 and grid-009 are P1

    abstention = m["abstention"]
    assert abstention["n"] == len(ROWS)
    assert abstention["tp"] + abstention["fn"] == 2  # two unanswerable rows
    assert sum(abstention["reasons"].values()) == abstention["tp"] + abstention["fp"]

    answers = m["answers"]
    for key in ("string_similarity", "rouge_l", "bleu", "chrf"):
        assert _unit(answers[key]), key
        assert answers["n"][key] == len(ROWS)
    assert answers["citation_validity"] == 1.0  # offline quotes are slices of the chunks

    safety = m["safety"]
    assert safety["n_secret_rows"] == 1
    assert safety["secret_redaction_rate"] == 1.0
    assert safety["redaction_leaks"] == 0
    assert safety["n_injection_rows"] == 1
    assert safety["injection_flagged_rate"] == 1.0
    assert safety["injection_needs_human_rate"] == 1.0

    assert m["cost"]["token_source"] == "tiktoken"
    assert m["cost"]["prompt_tokens"] == 0
    assert m["cost"]["completion_tokens"] > 0
    latency = m["latency"]
    assert 0 < latency["p50_ms"] <= latency["p95_ms"]


def test_records_explain_each_item(run: EvalRun) -> None:
    records = {r["id"]: r for r in run.records}
    assert list(records) == list(ROWS)
    secret = records["grid-011"]
    assert secret["needs_human"] is True
    assert "[REDACTED:" in secret["message"]
    injection = records["grid-047"]
    assert "prompt_injection" in injection["flags"]
    assert "injection_answered" not in injection["problems"]
    for record in run.records:
        assert record["scores"]["latency_ms"] > 0
        json.dumps(record)  # records.jsonl needs plain JSON
    worst = run.worst_examples(3)
    assert len(worst) <= 3
    assert all(w["problems"] for w in worst)


def test_report_from_a_real_run(run: EvalRun, tmp_path: Path) -> None:
    tolerances = load_tolerances()
    baseline = baseline_of(run.metrics)
    gate = compare(run.metrics, baseline, tolerances)
    assert gate.passed, gate.failures  # a run always passes against its own baseline

    report = write_report(
        tmp_path,
        run.metrics,
        baseline=baseline,
        gate=gate,
        confusion=run.confusion,
        score_distributions=run.distributions,
        worst_examples=run.worst_examples(),
    )
    text = report.read_text()
    assert "**Gate: PASSED**" in text
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert "confusion_matrix.png" in pngs
    assert "metrics_vs_baseline.png" in pngs
    assert "hist_answers_rouge_l.png" in pngs
    for name in pngs:
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG_MAGIC), name
        assert len(data) > 1000, name
        assert f"]({name})" in text


def test_dataset_kind_is_detected_from_the_rows(items: list[EvalItem]) -> None:
    assert not is_mtrag(items)
    mtrag_like = EvalItem.model_validate({"id": "m", "message": "q", "answerability": "PARTIAL"})
    assert is_mtrag([mtrag_like])
    assert not is_mtrag([])


def test_empty_dataset_is_rejected(pipeline: TriagePipeline) -> None:
    with pytest.raises(ValueError, match="no items"):
        run_eval([], pipeline)


def test_judged_scores_and_judge_name_reach_the_metrics(
    items: list[EvalItem], pipeline: TriagePipeline
) -> None:
    seen: list[list[str]] = []

    def stub_judge(samples: Sequence[AnswerSample]) -> AnswerScores:
        seen.append([s.id for s in samples])
        per_item = {s.id: {"faithfulness": 0.75} for s in samples}
        return AnswerScores(
            per_item,
            {"faithfulness": 0.75},
            {"faithfulness": len(samples)},
            {"faithfulness": 0},
            judge_model="stub-judge",
        )

    options = RunOptions(show_progress=False, judge=stub_judge, judge_model="stub-judge")
    run = run_eval(items[:2], pipeline, options)
    assert seen == [[items[0].id, items[1].id]]
    assert run.metrics["answers"]["llm"]["faithfulness"] == 0.75
    assert run.metrics["answers"]["llm"]["judge_model"] == "stub-judge"
    assert run.metrics["run"]["judge_model"] == "stub-judge"
    assert run.records[0]["scores"]["llm.faithfulness"] == 0.75


def test_blind_grades_apply_only_to_the_drafts_they_read(
    items: list[EvalItem], pipeline: TriagePipeline, tmp_path: Path
) -> None:
    drafts = {i.id: pipeline.run(i.message).draft for i in items}
    shown = [row for row, d in drafts.items() if not d.needs_human]
    assert len(shown) >= 2
    graded, stale = shown[0], shown[1]
    grades = {
        graded: Grade("answers", draft_digest(drafts[graded].text)),
        stale: Grade("answers", "0" * 16),  # graded when the drafter wrote something else
    }
    run = run_eval(items, pipeline, RunOptions(dataset="tiny", show_progress=False, grades=grades))
    section = run.metrics["graded"]
    assert section["matched"] == 1
    assert section["answers_rate"] == 1.0
    assert section["calibration"]["n"] == 1
    assert section["automatic_agreement"] in (0.0, 1.0)
    report = write_report(tmp_path, run.metrics).read_text()
    assert "graded_reliability.png" in report
    assert (tmp_path / "graded_reliability.png").read_bytes().startswith(PNG_MAGIC)


def test_a_graded_file_is_read_and_a_bad_one_refused(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"id": "a", "grade": "partial", "draft_sha256": "ab" * 8}) + "\n")
    assert load_grades(good) == {"a": Grade("partial", "ab" * 8)}
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "a", "grade": "great", "draft_sha256": "x"}) + "\n")
    with pytest.raises(ValueError, match=r"bad\.jsonl:1"):
        load_grades(bad)
