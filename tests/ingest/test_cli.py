"""`triage ingest` and `triage search` as users run them: a real subprocess, JSON on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

INGEST_KEYS = {
    "docs_seen",
    "docs_added",
    "docs_updated",
    "docs_unchanged",
    "docs_deleted",
    "docs_failed",
    "chunks_written",
    "chunks_deleted",
    "embeddings_computed",
    "seconds",
}
HIT_KEYS = {"chunk_id", "doc_id", "source", "title", "url", "heading", "score", "text"}


def triage(
    args: list[str], data_dir: Path, models_dir: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "TRIAGE_DATA_DIR": str(data_dir),
        "TRIAGE_MODELS_DIR": str(models_dir),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
        check=False,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_ingest_then_search_print_the_contract_json(
    grid_sample: Path, data_dir: Path, models_dir: Path, minilm: object
) -> None:
    first = triage(["ingest", str(grid_sample), "--json"], data_dir, models_dir)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary.keys() >= INGEST_KEYS
    assert summary["docs_added"] == summary["docs_seen"] > 0

    again = json.loads(triage(["ingest", str(grid_sample), "--json"], data_dir, models_dir).stdout)
    assert again["embeddings_computed"] == 0
    assert again["docs_unchanged"] == summary["docs_seen"]

    found = triage(
        ["search", "client id and client secret basic auth", "--k", "3", "--json"],
        data_dir,
        models_dir,
    )
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert len(hits) == 3
    assert hits[0].keys() >= HIT_KEYS
    auth = next(h for h in hits if h["doc_id"] == "docs/guides/api-reference/authentication")
    assert auth["source"] == "docs/guides/api-reference/authentication.md"
    assert auth["url"].startswith("https://docs.lightspark.com/api-reference/authentication")


def test_errors_are_one_line_and_non_zero(tmp_path: Path, data_dir: Path, models_dir: Path) -> None:
    missing = triage(["ingest", str(tmp_path / "nope"), "--json"], data_dir, models_dir)
    assert missing.returncode != 0
    assert missing.stdout == ""
    assert missing.stderr.strip().count("\n") == 0
    assert "no such file or directory" in missing.stderr

    empty = triage(["search", "anything", "--json"], data_dir, models_dir)
    assert empty.returncode != 0
    assert "run `triage ingest PATH` first" in empty.stderr


def test_other_embedding_model_is_refused_with_a_clear_message(
    grid_sample: Path, data_dir: Path, models_dir: Path, minilm: object
) -> None:
    assert triage(["ingest", str(grid_sample)], data_dir, models_dir).returncode == 0
    refused = triage(
        ["search", "auth", "--json"],
        data_dir,
        models_dir,
        TRIAGE_EMBEDDING_PROVIDER="openai",
        OPENAI_BASE_URL="http://127.0.0.1:9/v1",
    )
    assert refused.returncode != 0
    assert "all-MiniLM-L6-v2" in refused.stderr
    assert "text-embedding-3-small" in refused.stderr


def test_enqueue_plans_jobs_and_refuses_a_second_run_until_the_first_is_done(
    grid_sample: Path, data_dir: Path, models_dir: Path, minilm: object
) -> None:
    planned = triage(["ingest", str(grid_sample), "--enqueue", "--json"], data_dir, models_dir)
    assert planned.returncode == 0, planned.stderr
    summary = json.loads(planned.stdout)
    assert summary["jobs"] > 0
    assert summary["chunks"] > 0
    assert summary["report"]["docs_added"] > 0

    again = triage(["ingest", str(grid_sample), "--enqueue"], data_dir, models_dir)
    assert again.returncode == 1
    assert summary["run"] in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1

    worked = triage(["ingest-worker", "--until-idle", "--json"], data_dir, models_dir)
    assert worked.returncode == 0, worked.stderr
    report = json.loads(worked.stdout)
    assert report["runs_finished"] == [summary["run"]]
    assert report["chunks_written"] == summary["chunks"]
    hits = triage(["search", "client secret", "--json"], data_dir, models_dir)
    assert json.loads(hits.stdout)

    status = triage(["ingest-status", "--json"], data_dir, models_dir)
    assert status.returncode == 0, status.stderr
    (run,) = json.loads(status.stdout)["runs"]
    assert run["run"] == summary["run"]
    assert run["status"] == "done"
    assert (run["jobs_done"], run["jobs_failed"], run["failed"]) == (summary["jobs"], 0, [])
    text = triage(["ingest-status"], data_dir, models_dir)
    assert summary["run"] in text.stdout
