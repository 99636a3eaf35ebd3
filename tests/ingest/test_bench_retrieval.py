"""bench/retrieval.py runs on all three corpora beside the naive baseline (tiny subsets)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_scores_three_corpora_beside_the_baseline(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "bench/retrieval.py",
            "--subset",
            "1",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--json-out",
            str(out),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert set(figures) == {"grid", "btcpay", "stellar"}
    for corpus in figures.values():
        assert corpus["index"]["chunks"] > 0
        for system in ("hybrid", "baseline"):
            splits = corpus["systems"][system]
            assert {"tune", "holdout", "all"} <= set(splits)
            for split in ("tune", "holdout"):
                assert splits[split]["n"] == 1
                assert 0.0 <= splits[split]["hit@5"] <= 1.0
    # The es/pt renderings of the Grid rows are scored beside their English originals.
    languages = figures["grid"]["languages"]
    assert {"es", "pt"} <= set(languages)
    assert languages["es"]["n"] == languages["en (es rows)"]["n"] > 0

    rerun = subprocess.run(
        [
            sys.executable,
            "bench/retrieval.py",
            "--subset",
            "1",
            "--corpora",
            "btcpay",
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    # The cached index is reused: same chunk count, nothing re-synced.
    assert f'"chunks": {figures["btcpay"]["index"]["chunks"]}' in rerun.stdout


def test_btcpay_is_measured_without_its_faq_pages(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    from _corpora import CORPORA, prepare

    prepared = prepare(CORPORA["btcpay"], tmp_path)
    assert len(prepared.files) > 90
    assert not [f for f in prepared.files if "/FAQ/" in f.as_posix()]
    extra = prepare(CORPORA["btcpay"], tmp_path, extra_exclude=("docs/Deployment/**",))
    assert not [f for f in extra.files if "/Deployment/" in f.as_posix()]
