from __future__ import annotations

import json
import math
import re
from pathlib import Path

from matplotlib.image import imread

from evals.gate import compare
from evals.report.markdown import write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

METRICS = {
    "retrieval": {"hit@5": 0.8, "mrr@10": 0.55, "n_queries": 40},
    "answers": {"rouge_l": 0.31, "faithfulness": math.nan},
    "latency": {"p95_ms": 1800.0},
}
BASELINE = {
    "retrieval": {"hit@5": 0.85, "mrr@10": 0.5, "n_queries": 40},
    "answers": {"rouge_l": 0.3},
    "latency": {"p95_ms": 1500.0},
}
TOLERANCES = {"default": 0.02, "metrics": {"latency.*": {"direction": "lower_is_better"}}}


def _assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    pixels = imread(path)  # decodes the whole image, so a truncated file would fail here
    assert pixels.shape[0] > 50
    assert pixels.shape[1] > 50


def test_full_report(tmp_path: Path) -> None:
    gate = compare(METRICS, BASELINE, TOLERANCES)
    worst = [
        {
            "id": "t-17",
            "score": 0.0,
            "message": "Why does | my webhook\nfail?",
            "sources": ["grid/webhooks#verify", "grid/errors"],
        },
        {"id": "t-3", "score": 0.12, "message": "Refund?", "sources": []},
    ]

    report = write_report(
        tmp_path / "run",
        METRICS,
        baseline=BASELINE,
        gate=gate,
        confusion=(["auth", "billing"], [[5, 1], [2, 7]]),
        score_distributions={"answers.rouge_l": [0.1, 0.5, 0.9], "empty": []},
        worst_examples=worst,
    )

    out = tmp_path / "run"
    assert report == out / "report.md"
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == ["confusion_matrix.png", "hist_answers_rouge_l.png", "metrics_vs_baseline.png"]
    for name in pngs:
        _assert_png(out / name)

    text = report.read_text(encoding="utf-8")
    embedded = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert sorted(embedded) == pngs
    assert "**Gate: FAILED (2 metric(s))**" in text  # hit@5 dropped, latency rose
    assert "| **FAIL** | latency.p95_ms |" in text
    assert "| retrieval.hit@5 | 0.8000 | 0.8500 | -0.0500 |" in text
    # worst examples: id first, sources last and one per line, cells stay on one row
    assert "| id | score | message | sources |" in text
    assert (
        "| t-17 | 0.0000 | Why does \\| my webhook fail? | grid/webhooks#verify<br>grid/errors |"
        in text
    )

    saved = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert saved["retrieval"] == METRICS["retrieval"]
    assert saved["answers"]["faithfulness"] is None  # NaN is not JSON


def test_minimal_report_without_baseline_or_plots_data(tmp_path: Path) -> None:
    report = write_report(tmp_path, {"latency": {"p95_ms": 1200.0}, "n": 3})

    text = report.read_text(encoding="utf-8")
    assert "| metric | value |" in text
    assert "Gate" not in text
    assert "Worst examples" not in text
    # nothing on the unit interval, nothing to plot
    assert list(tmp_path.glob("*.png")) == []


def test_current_only_bar_chart(tmp_path: Path) -> None:
    write_report(tmp_path, {"retrieval": {"hit@5": 0.7}})

    _assert_png(tmp_path / "metrics_vs_baseline.png")
