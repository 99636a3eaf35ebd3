"""Block vectors on disk: what one process embedded, the next one reads instead."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from ingest.vector_cache import VectorCache
from ingest.vector_disk import DiskVectors


class _Counting:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, texts: list[str]) -> list[list[float]]:
        self.seen.extend(texts)
        return [[float(len(t)), 1.0, 0.5] for t in texts]


def test_a_new_cache_reads_what_an_earlier_one_embedded(tmp_path: Path) -> None:
    path = tmp_path / "model.sqlite"
    first = _Counting()
    before = VectorCache(first, max_size=10, disk=DiskVectors(path)).unit_vectors(["ab", "abcd"])
    second = _Counting()
    after = VectorCache(second, max_size=10, disk=DiskVectors(path)).unit_vectors(
        ["abcd", "ab", "new text"]
    )
    assert second.seen == ["new text"]
    assert np.allclose(after[0], before[1], atol=1e-6)
    assert np.allclose(after[1], before[0], atol=1e-6)


def test_another_process_reads_them_too(tmp_path: Path) -> None:
    path = tmp_path / "model.sqlite"
    VectorCache(_Counting(), max_size=10, disk=DiskVectors(path)).unit_vectors(["shared block"])
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from ingest.vector_disk import DiskVectors\n"
        "found = DiskVectors(Path(sys.argv[1])).get(['shared block', 'unseen'])\n"
        "print(sorted(found))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == "['shared block']"


def test_an_unreadable_file_only_costs_the_embedding(tmp_path: Path) -> None:
    path = tmp_path / "model.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    embed = _Counting()
    rows = VectorCache(embed, max_size=10, disk=DiskVectors(path)).unit_vectors(["ab"])
    assert rows.shape == (1, 3)
    assert embed.seen == ["ab"]
