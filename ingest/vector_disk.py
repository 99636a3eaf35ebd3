"""Unit vectors kept on disk by text digest, shared by every process on a host.

The drafter's block similarity embeds the doc blocks it compares with each question; in
memory they last as long as the process, so every restart, and every new worker, paid
about a second per question until the hot blocks were embedded again.  This keeps them in
one SQLite file per embedding model (the file is named by the model's fingerprint, so
another model never reads these vectors), written by whichever process embedded a text
first.  A damaged or unreadable file is set aside for the life of the process: vectors are
a cache, never a reason for a draft to fail.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ingest.types import sha256_hex

log = logging.getLogger(__name__)

_SCHEMA = "CREATE TABLE IF NOT EXISTS vectors (digest TEXT PRIMARY KEY, vector BLOB NOT NULL)"
_BATCH = 500  # SQLite's bound-parameter limit is far above this; keeps statements small


def text_digest(text: str) -> str:
    return sha256_hex(text)[:32]


class DiskVectors:
    """A text -> unit vector table in one SQLite file (WAL: readers never wait)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._broken = False

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=5.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)
            self._local.conn = conn
        return conn

    def get(self, texts: Sequence[str]) -> dict[str, np.ndarray[Any, Any]]:
        """The stored vectors of those texts that have one."""
        if self._broken or not texts:
            return {}
        by_digest = {text_digest(t): t for t in texts}
        found: dict[str, np.ndarray[Any, Any]] = {}
        digests = list(by_digest)
        try:
            conn = self._connection()
            for start in range(0, len(digests), _BATCH):
                part = digests[start : start + _BATCH]
                marks = ",".join("?" * len(part))
                rows = conn.execute(
                    f"SELECT digest, vector FROM vectors WHERE digest IN ({marks})",
                    part,
                ).fetchall()
                for digest, blob in rows:
                    found[by_digest[digest]] = np.frombuffer(blob, dtype=np.float32).astype(float)
        except sqlite3.Error as exc:
            self._give_up(exc)
            return {}
        return found

    def put(self, vectors: Mapping[str, np.ndarray[Any, Any]]) -> None:
        if self._broken or not vectors:
            return
        rows = [
            (text_digest(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in vectors.items()
        ]
        try:
            conn = self._connection()
            with conn:
                conn.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?)", rows)
        except sqlite3.Error as exc:
            self._give_up(exc)

    def _give_up(self, exc: sqlite3.Error) -> None:
        self._broken = True
        log.warning("block vector file %s unusable, embedding in memory only: %s", self.path, exc)
