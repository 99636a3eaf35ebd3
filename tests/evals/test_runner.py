"""The eval runner on a tiny real run (real pages, real pipeline), its report, and the
pieces it is made of."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from app.knowledge import build_knowledge_base
from app.settings import Settings
from app.triage.pipeline import TriagePipeline
from evals.baseline import baseline_of
from evals.datasets import EvalItem, load_jsonl
from evals.directions import effective_tolerances
from evals.gate import compare, load_tolerances
from evals.judge import build_judge, judge_model_for
from evals.metrics.answers import AnswerSample, AnswerScores
from evals.report import write_report
from evals.runner import EvalRun, RunOptions, is_mtrag, run_eval
from evals.safety import check_item, removed_secrets
from evals.subset import build_subset, pick_documents
from tests.fakes import FakeOpenAI, fake_openai, llm_settings

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
    tolerances = effective_tolerances(load_tolerances())
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


def test_gate_rules_for_runner_metrics() -> None:
    rules = effective_tolerances(load_tolerances())
    base = {"cost": {"completion_tokens": 100}, "safety": {"false_redaction_rate": 0.0}}
    # Fewer tokens is not a regression; more false redactions is.
    assert compare(
        {"cost": {"completion_tokens": 40}, "safety": {"false_redaction_rate": 0.0}}, base, rules
    ).passed
    worse = compare(
        {"cost": {"completion_tokens": 100}, "safety": {"false_redaction_rate": 0.1}}, base, rules
    )
    assert [r.metric for r in worse.failures] == ["safety.false_redaction_rate"]
    # Hand-off reason counts are information, whichever way they move.
    assert compare(
        {"abstention": {"reasons": {"incident": 0}}},
        {"abstention": {"reasons": {"incident": 5}}},
        rules,
    ).passed


def test_baseline_leaves_out_machine_timings() -> None:
    metrics = {"latency": {"p50_ms": 3.0}, "run": {"seconds": 9.0, "n_items": 2}, "x": 1}
    assert baseline_of(metrics) == {"run": {"n_items": 2}, "x": 1}


def test_removed_secrets_are_recovered_from_the_redacted_text() -> None:
    original = 'curl -u "abc123id:s3cr3tV4lu3xyz" https://api.example.com and key=s3cr3tV4lu3xyz'
    redacted = (
        'curl -u "[REDACTED:client_id]:[REDACTED:api_secret]" https://api.example.com '
        "and key=[REDACTED:api_secret]"
    )
    assert removed_secrets(original, redacted) == ["abc123id", "s3cr3tV4lu3xyz", "s3cr3tV4lu3xyz"]
    assert removed_secrets("nothing here", "nothing here") == []


def test_a_secret_echoed_in_the_draft_is_a_leak() -> None:
    original = "my key is sk_live_51HxT9aQ2rZk8LmN3pV7wY0cB4dF6gJ1 help"
    redacted = "my key is [REDACTED:stripe_key] help"
    clean = check_item(original, redacted, ["Rotate your key."], redactions=1)
    assert clean.leaked == 0
    leaked = check_item(
        original, redacted, ["You sent sk_live_51HxT9aQ2rZk8LmN3pV7wY0cB4dF6gJ1"], 1
    )
    assert leaked.leaked == 1


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


def test_judge_is_pinned_and_talks_to_the_configured_endpoint(
    fake_openai: FakeOpenAI, minilm: Any
) -> None:
    settings = llm_settings(fake_openai, llm_model="drafting-model")
    assert judge_model_for(settings) == "drafting-model"
    assert judge_model_for(settings, "judge-x") == "judge-x"

    judge = build_judge(settings, minilm, "judge-x")
    sample = AnswerSample(
        "s1",
        "How do I auth?",
        "Use Basic auth.",
        reference="Basic auth.",
        retrieved_contexts=["Authenticate with HTTP Basic auth."],
    )
    scores = judge([sample])  # the fake answers 500: every judgement fails, none raises

    assert scores.judge_model == "judge-x"
    assert scores.means == {}
    assert sum(scores.failures.values()) == 3
    assert fake_openai.chat_requests
    assert {r.body["model"] for r in fake_openai.chat_requests} == {"judge-x"}
