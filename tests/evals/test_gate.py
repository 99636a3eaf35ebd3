from __future__ import annotations

import math
from pathlib import Path

import pytest

from evals.gate import (
    DEFAULT_TOLERANCES_PATH,
    GateResult,
    GateRow,
    baseline_of,
    compare,
    flatten,
    load_tolerances,
)

TOLERANCES = {
    "default": 0.01,
    "metrics": {
        "retrieval.*": 0.02,
        "retrieval.hit@1": 0.0,
        "latency.*": {"tolerance": 50, "direction": "lower_is_better"},
        "*.n_*": {"direction": "info"},
    },
}


def _row(result: GateResult, metric: str) -> GateRow:
    return next(r for r in result.rows if r.metric == metric)


def test_flatten_nests_with_dots_and_keeps_only_numbers() -> None:
    nested = {
        "retrieval": {"hit@5": 0.8, "n_queries": 10},
        "answers": {"judge_model": "gpt", "ok": True, "missing": None, "list": [1]},
        "flat.already": 0.5,
    }

    assert flatten(nested) == {
        "retrieval.hit@5": 0.8,
        "retrieval.n_queries": 10.0,
        "flat.already": 0.5,
    }
    assert flatten(flatten(nested)) == flatten(nested)


def test_within_tolerance_passes() -> None:
    baseline = {"retrieval": {"hit@5": 0.80, "mrr@10": 0.60}, "other": 0.5}
    current = {"retrieval": {"hit@5": 0.79, "mrr@10": 0.585}, "other": 0.495}

    result = compare(current, baseline, TOLERANCES)

    assert result.passed
    assert result.failures == []
    row = _row(result, "retrieval.mrr@10")
    assert row.tolerance == 0.02
    assert row.delta == pytest.approx(-0.015)
    assert row.direction == "higher_is_better"


def test_drop_beyond_tolerance_fails() -> None:
    result = compare({"retrieval.hit@5": 0.77}, {"retrieval.hit@5": 0.80}, TOLERANCES)

    assert not result.passed
    assert [r.metric for r in result.failures] == ["retrieval.hit@5"]


def test_exact_rule_beats_glob_and_default_applies_elsewhere() -> None:
    result = compare(
        {"retrieval.hit@1": 0.79, "answers.rouge_l": 0.485},
        {"retrieval.hit@1": 0.80, "answers.rouge_l": 0.5},
        TOLERANCES,
    )

    assert {r.metric for r in result.failures} == {"retrieval.hit@1", "answers.rouge_l"}
    assert _row(result, "answers.rouge_l").tolerance == 0.01


def test_boundary_is_inclusive_despite_float_noise() -> None:
    assert compare({"a.x": 0.50}, {"a.x": 0.52}, {"default": 0.02}).passed
    assert not compare({"a.x": 0.4999}, {"a.x": 0.52}, {"default": 0.02}).passed


def test_lower_is_better() -> None:
    baseline = {"latency": {"p95_ms": 900.0}}

    assert compare({"latency": {"p95_ms": 940.0}}, baseline, TOLERANCES).passed
    assert compare({"latency": {"p95_ms": 100.0}}, baseline, TOLERANCES).passed
    slower = compare({"latency": {"p95_ms": 960.0}}, baseline, TOLERANCES)
    assert not slower.passed
    assert slower.rows[0].direction == "lower_is_better"


def test_later_glob_overrides_earlier_one() -> None:
    # retrieval.n_queries matches both "retrieval.*" and the later "*.n_*" (info)
    result = compare({"retrieval.n_queries": 5}, {"retrieval.n_queries": 500}, TOLERANCES)

    assert result.passed
    assert result.rows[0].direction == "info"


def test_missing_metric_fails_and_new_metric_passes() -> None:
    result = compare(
        {"retrieval.hit@5": 0.9, "answers.new": 0.1},
        {"retrieval.hit@5": 0.9, "retrieval.mrr@10": 0.7},
        TOLERANCES,
    )

    assert not result.passed
    missing = _row(result, "retrieval.mrr@10")
    assert (missing.current, missing.delta, missing.ok) == (None, None, False)
    new = _row(result, "answers.new")
    assert (new.baseline, new.ok) == (None, True)


def test_nan_current_fails_nan_baseline_does_not() -> None:
    assert not compare({"x": math.nan}, {"x": 0.5}, TOLERANCES).passed
    assert compare({"x": 0.1}, {"x": math.nan}, TOLERANCES).passed


def test_repo_tolerance_file() -> None:
    spec = load_tolerances(DEFAULT_TOLERANCES_PATH)
    baseline = {
        "retrieval": {"hit@5": 0.8, "n_queries": 100},
        "answers": {"redaction_leaks": 0, "n": {"rouge_l": 50}},
        "latency": {"p95_ms": 1200},
        "classification": {"priority": {"p1_recall": 0.9}},
    }

    assert compare(baseline, baseline, spec).passed
    leaked = compare({**baseline, "answers": {"redaction_leaks": 1, "n": {}}}, baseline, spec)
    assert [r.metric for r in leaked.failures] == ["answers.redaction_leaks"]
    assert leaked.failures[0].direction == "lower_is_better"
    p1 = {**baseline, "classification": {"priority": {"p1_recall": 0.89}}}
    assert [r.metric for r in compare(p1, baseline, spec).failures] == [
        "classification.priority.p1_recall"
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"defaults": 0.1}, "unknown top-level"),
        ({"metrics": {"a": {"direction": "sideways"}}}, "direction must be one of"),
        ({"metrics": {"a": {"tolerance": -1}}}, "tolerance must be a number >= 0"),
        ({"metrics": {"a": {"tol": 1}}}, "unknown key"),
        ({"metrics": {"a": "high"}}, "expected a number or a mapping"),
    ],
)
def test_bad_tolerance_specs_are_rejected(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compare({}, {}, spec)


def test_load_tolerances_validates_the_file(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("metrics:\n  a: {direction: up}\n", encoding="utf-8")

    with pytest.raises(ValueError, match="direction"):
        load_tolerances(path)


def test_gate_rules_for_runner_metrics() -> None:
    rules = load_tolerances()
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
