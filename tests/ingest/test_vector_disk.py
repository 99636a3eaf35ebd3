"""Block vectors on disk: what one process embedded, the next one reads instead, within a
cap that drops the least recently used."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np

from ingest.vector_cache import VectorCache
from ingest.vector_disk import DiskVectors, text_digest


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


def _vectors(names: list[str], dim: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(len(names))
    return {name: rng.standard_normal(dim) for name in names}


def test_the_least_recently_used_vectors_leave_first_once_over_the_cap(tmp_path: Path) -> None:
    clock = [1_000_000.0]
    disk = DiskVectors(tmp_path / "model.sqlite", max_rows=100, clock=lambda: clock[0])
    old = [f"old {i}" for i in range(60)]
    mid = [f"mid {i}" for i in range(30)]
    new = [f"new {i}" for i in range(40)]
    disk.put(_vectors(old))
    clock[0] += 7200
    disk.put(_vectors(mid))
    clock[0] += 7200
    assert len(disk.get(old[:20])) == 20  # read again: used later than `mid`
    clock[0] += 7200
    disk.put(_vectors(new))  # 130 rows: back down to 90, the 40 least recently used out
    assert set(disk.get(old + mid + new)) == set(old[:20] + mid + new)


def test_the_file_stops_growing_at_its_cap(tmp_path: Path) -> None:
    path = tmp_path / "model.sqlite"
    clock = [1_000_000.0]
    disk = DiskVectors(path, max_rows=1_000, clock=lambda: clock[0])

    def file_bytes() -> int:
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return path.stat().st_size

    def rows() -> int:
        with sqlite3.connect(path) as conn:
            return int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])

    for batch in range(100):  # ten times the cap, a question's worth of blocks at a time
        clock[0] += 60
        disk.put(_vectors([f"block {batch} {i}" for i in range(100)], dim=384))
        assert rows() <= 1_000 + 100
        if batch == 9:
            at_cap = file_bytes()
    assert file_bytes() <= at_cap * 1.25


def test_a_file_written_before_the_cap_is_read_and_its_rows_leave_first(tmp_path: Path) -> None:
    path = tmp_path / "model.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE vectors (digest TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        conn.execute(
            "INSERT INTO vectors VALUES (?, ?)",
            (text_digest("kept from before"), np.ones(3, dtype=np.float32).tobytes()),
        )
    disk = DiskVectors(path, max_rows=10)
    assert list(disk.get(["kept from before"])) == ["kept from before"]
    disk.put(_vectors([f"fresh {i}" for i in range(12)]))
    assert disk.get(["kept from before"]) == {}
    assert len(disk.get([f"fresh {i}" for i in range(12)])) == 9
