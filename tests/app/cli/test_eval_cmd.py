"""`triage eval`: the small dev eval against its committed baseline, the gate's exit code,
and one-line errors."""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer

from app.cli.eval_cmd import GATE_FAILED_EXIT, register
from app.cli.output import CliError

REPO = Path(__file__).resolve().parents[3]
SMALL_SET = REPO / "evals" / "datasets" / "grid_dev_small.jsonl"
SMALL_BASELINE = REPO / "evals" / "baselines" / "grid_dev_small.json"
DISTRACTORS = "20"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def invoke(args: list[str]) -> tuple[int, str, str]:
    """Run `triage ARGS` in-process with the eval commands registered, handling errors the
    way the console script's main() does; returns (exit code, stdout, stderr)."""
    app = typer.Typer(add_completion=False)

    @app.callback()
    def _root() -> None:
        """triage"""

    register(app)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            app(args, standalone_mode=False)
            code = 0
        except CliError as exc:
            print(f"triage: error: {exc}", file=sys.stderr)
            code = exc.exit_code
    return code, out.getvalue(), err.getvalue()


def error_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("triage: error:")]
    assert len(lines) == 1, stderr
    return lines[0]


@dataclass
class SmallRun:
    code: int
    stdout: str
    stderr: str
    report: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def small_env(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path, grid_root: Path
) -> dict[str, str]:
    return {
        "TRIAGE_DATA_DIR": str(tmp_path_factory.mktemp("eval-data")),
        "TRIAGE_MODELS_DIR": str(models_dir),
        "TRIAGE_OPENAPI_SPECS": json.dumps([str(grid_root / "openapi.yaml")]),
    }


@pytest.fixture(scope="module")
def small_run(
    small_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, grid_root: Path
) -> SmallRun:
    """The CI command: the 30-row dev subset, self-contained (gold pages + distractors)."""
    report = tmp_path_factory.mktemp("eval-report")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in small_env.items():
            mp.setenv(key, value)
        code, out, err = invoke(
            [
                "eval",
                str(SMALL_SET),
                "--ingest",
                str(grid_root),
                "--ingest-subset",
                DISTRACTORS,
                "--baseline",
                str(SMALL_BASELINE),
                "--report",
                str(report),
                "--json",
            ]
        )
    return SmallRun(code, out, err, report, small_env)


@pytest.mark.slow
def test_small_eval_passes_its_committed_baseline(small_run: SmallRun) -> None:
    assert small_run.code == 0, small_run.stderr
    assert "gate passed" in small_run.stderr
    metrics = json.loads(small_run.stdout)  # exactly one JSON document on stdout
    assert metrics["run"]["n_items"] == 30
    for section in ("retrieval", "classification", "abstention", "answers", "safety", "latency"):
        assert section in metrics
    assert metrics["safety"]["redaction_leaks"] == 0
    assert metrics["safety"]["secret_redaction_rate"] == 1.0
    assert metrics["answers"]["citation_validity"] == 1.0

    report = small_run.report
    for name in ("metrics.json", "report.md", "records.jsonl", "confusion_matrix.png"):
        assert (report / name).is_file(), name
    assert json.loads((report / "metrics.json").read_text()) == metrics
    text = (report / "report.md").read_text()
    assert "**Gate: PASSED**" in text
    assert "## Worst examples" in text
    for png in report.glob("*.png"):
        assert png.read_bytes().startswith(PNG_MAGIC), png.name
    records = (report / "records.jsonl").read_text().splitlines()
    assert len(records) == 30


@pytest.mark.slow
def test_a_metric_raised_beyond_tolerance_fails_the_gate(
    small_run: SmallRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert small_run.code == 0, small_run.stderr
    baseline = json.loads(SMALL_BASELINE.read_text())
    accuracy = baseline["classification"]["category"]["accuracy"]
    # Pretend the baseline was better than this run by more than the 0.02 tolerance.
    baseline["classification"]["category"]["accuracy"] = accuracy + 0.05
    raised = tmp_path / "raised.json"
    raised.write_text(json.dumps(baseline))
    for key, value in small_run.env.items():
        monkeypatch.setenv(key, value)

    # The collection is already filled by the first run, so this re-run skips the ingest.
    code, stdout, stderr = invoke(["eval", str(SMALL_SET), "--baseline", str(raised), "--json"])

    assert code == GATE_FAILED_EXIT
    line = error_line(stderr)
    assert "gate failed: 1 metric(s) regressed" in line
    assert "classification.category.accuracy" in line
    assert json.loads(stdout)["run"]["n_items"] == 30  # the metrics are still printed


def test_missing_dataset_is_a_one_line_error(tmp_path: Path) -> None:
    for args in (["eval", str(tmp_path / "nope.jsonl")], ["eval", "run", "nope.jsonl"]):
        code, stdout, stderr = invoke(args)
        assert code == 1
        assert stdout == ""
        assert "dataset not found" in error_line(stderr)


def test_malformed_dataset_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "message": "ok"}\n{"id": "b"\n')
    code, _, stderr = invoke(["eval", str(bad), "--json"])
    assert code == 1
    assert f"{bad}:2" in error_line(stderr)


def test_unreadable_baseline_fails_before_any_work(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text("[1, 2]")
    code, _, stderr = invoke(["eval", str(SMALL_SET), "--baseline", str(baseline)])
    assert code == 1
    assert "must hold a JSON object" in error_line(stderr)


def test_empty_collection_without_ingest_is_an_error(
    tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRIAGE_MODELS_DIR", str(models_dir))
    code, _, stderr = invoke(["eval", str(SMALL_SET), "--collection", "empty"])
    assert code == 1
    assert "collection 'empty' is empty" in error_line(stderr)


def test_option_values_are_checked_with_one_line_errors() -> None:
    code, _, stderr = invoke(["eval", str(SMALL_SET), "--limit", "0"])
    assert code == 1
    assert "--limit must be at least 1" in error_line(stderr)
    code, _, stderr = invoke(["eval", str(SMALL_SET), "--ingest-subset", "5"])
    assert code == 1
    assert "--ingest-subset needs --ingest" in error_line(stderr)
