"""`triage ingest` reports progress in plain lines when stderr is a pipe or a log file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.cli.progress import PlainLines
from ingest.sync_report import SyncProgress


def test_ingest_piped_prints_plain_progress_lines(
    grid_sample: Path, tmp_path: Path, models_dir: Path, minilm: object
) -> None:
    env = {
        **os.environ,
        "TRIAGE_DATA_DIR": str(tmp_path / "data"),
        "TRIAGE_MODELS_DIR": str(models_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "ingest", str(grid_sample), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    files = json.loads(done.stdout)["docs_seen"]
    lines = [line for line in done.stderr.splitlines() if line.startswith("ingest:")]
    assert lines, done.stderr
    assert f"{files}/{files} files" in lines[-1]
    assert "\x1b[" not in done.stderr  # no terminal control codes in a log


def test_plain_lines_are_throttled_and_the_last_state_is_always_printed() -> None:
    now = [0.0]
    printed: list[str] = []
    lines = PlainLines(printed.append, every=10.0, clock=lambda: now[0])
    progress = SyncProgress(files_total=3)
    for step in range(3):
        progress.files_done = step + 1
        now[0] = step * 4.0  # reports at 0 s, 4 s, 8 s: only the first is within budget
        lines(progress)
    assert len(printed) == 1
    now[0] = 12.0
    lines(progress)
    assert len(printed) == 2
    assert "3/3 files" in printed[-1]
    lines.finish()  # the end state is already printed: not twice
    assert len(printed) == 2

    progress.chunks_written = 5
    lines(progress)  # within the interval: held back until the end
    lines.finish()
    assert len(printed) == 3
    assert "5 chunks" in printed[-1]


def test_plain_lines_measure_elapsed_rate_and_eta_with_the_injected_clock() -> None:
    now = [120.0]
    printed: list[str] = []
    lines = PlainLines(printed.append, clock=lambda: now[0])
    # Started 20 s before the clock's reading: 100 embeddings in 20 s, 1 of 4 files done.
    progress = SyncProgress(files_total=4, files_done=1, embeddings_computed=100, started=100.0)
    lines(progress)
    [line] = printed
    assert "(5 emb/s)" in line
    assert "20s elapsed" in line
    assert "ETA 60s" in line
