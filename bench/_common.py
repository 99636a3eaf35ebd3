"""Shared set-up for the benchmark scripts (run from the repo root: `python bench/X.py`)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()
GRID = SHARED_DATA / "corpus_grid"

os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(SHARED_DATA / "tiktoken"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(REPO))


def canonical_grid_copy(dest: Path) -> Path:
    """Copy the canonical Grid pages (one correct document per question) with their manifest."""
    rows = [json.loads(line) for line in (GRID / "manifest.jsonl").read_text().splitlines() if line]
    keep = [r for r in rows if r.get("canonical")]
    for row in keep:
        target = dest / row["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(GRID / row["path"], target)
    (dest / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in keep))
    return dest


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a benchmark's timings."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n== {title}")
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def uvicorn_server(
    settings: Mapping[str, str], workdir: Path, *, workers: int = 1, start_timeout: float = 300
) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, with only these TRIAGE_ settings;
    yields its base URL once /healthz answers, and stops it after."""
    import httpx

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(settings, PYTHONPATH=str(REPO))
    with (workdir / "server.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.api:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
             "--workers", str(workers)],
            env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + start_timeout
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"server did not start; see {workdir / 'server.log'}")
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=30)
