"""`triage gaps` and `triage calibration` as users run them: a subprocess, JSON on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.services.database import prepare_database
from app.settings import Settings
from app.store import reviews, tickets

GAP_KEYS = {"topic", "count", "trend", "examples", "nearest_docs", "kind"}


def triage(args: list[str], data_dir: Path, models_dir: Path) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "TRIAGE_DATA_DIR": str(data_dir), "TRIAGE_MODELS_DIR": str(models_dir)}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
        check=False,
    )


def _seed(settings: Settings) -> str:
    engine, sessions = prepare_database(settings)
    at = datetime.now(UTC) - timedelta(days=2)
    try:
        with sessions.begin() as s:
            ticket = tickets.create_ticket(
                s,
                channel="api",
                reporter=None,
                message="Where can we download your SOC 2 Type II report? key [REDACTED_API_KEY_1]",
                triage={"category": "other"},
                now=at,
            )
            tickets.add_draft(
                s,
                ticket.id,
                text="A person will answer.",
                confidence=0.0,
                needs_human=True,
                reason="insufficient_documentation",
                now=at,
            )
            other = tickets.create_ticket(
                s, channel="api", reporter=None, message="How do I auth?", triage={}, now=at
            )
            draft = tickets.add_draft(
                s, other.id, text="Basic auth.", confidence=0.9, needs_human=False, now=at
            )
            reviews.approve(s, draft.id, reviewer="ana", now=at)
            return ticket.id
    finally:
        engine.dispose()


def test_gaps_json_prints_the_contract_keys(
    grid_sample: Path, tmp_path: Path, models_dir: Path, minilm: Any
) -> None:
    data_dir = tmp_path / "data"
    ingest = triage(["ingest", str(grid_sample), "--json"], data_dir, models_dir)
    assert ingest.returncode == 0, ingest.stderr
    ticket_id = _seed(Settings(data_dir=data_dir))

    done = triage(["gaps", "--json"], data_dir, models_dir)
    assert done.returncode == 0, done.stderr
    [gap] = json.loads(done.stdout)
    assert gap.keys() >= GAP_KEYS
    assert gap["ticket_ids"] == [ticket_id]
    assert gap["kind"] in ("docs_gap", "retrieval_miss")
    assert gap["trend"]["direction"] == "new"
    assert gap["examples"][0].endswith("[REDACTED_API_KEY_1]")
    assert {"doc_id", "url", "similarity"} <= gap["nearest_docs"][0].keys()

    since = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert (
        json.loads(triage(["gaps", "--since", since, "--json"], data_dir, models_dir).stdout) == []
    )

    calibration = triage(["calibration", "--json"], data_dir, models_dir)
    assert calibration.returncode == 0, calibration.stderr
    report = json.loads(calibration.stdout)
    overall = report["reliability"][0]
    assert (overall["category"], overall["n"], overall["approved_unedited"]) == ("all", 1, 1)
    assert overall["bins"][0].keys() >= {"low", "high", "confidence", "observed", "n"}
    assert report["autosend"]["categories"] == []


def test_a_bad_date_is_one_line_and_non_zero(tmp_path: Path, models_dir: Path) -> None:
    bad = triage(["gaps", "--since", "last tuesday", "--json"], tmp_path / "data", models_dir)
    assert bad.returncode != 0
    assert bad.stdout == ""
    assert bad.stderr.strip().count("\n") == 0
    assert "--since" in bad.stderr
