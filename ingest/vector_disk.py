"""Unit vectors kept on disk by text digest, shared by every process on a host.

The drafter's block similarity embeds the doc blocks it compares with each question; in
memory they last as long as the process, so every restart, and every new worker, paid
about a second per question until the hot blocks were embedded again.  This keeps them in
one SQLite file per embedding model (the file is named by the model's fingerprint, so
another model never reads these vectors), written by whichever process embedded a text
first.  A damaged or unreadable file is set aside for the life of the process: vectors are
a cache, never a reason for a draft to fail.

The file holds at most about ``max_rows`` vectors, least recently used out first.  Without
a cap it only grew: every question's own vector, and the blocks of every revision of every
document.  A cap bounds both; dropping the blocks no longer in any current document would
miss the questions, and would have to rebuild the drafter's blocks (title, heading, text
cut to its length) for the whole corpus at each ingest.  Use is recorded at most once an
hour per row (``used``, unix seconds), so reading stays read-only nearly always; after
about ``max_rows / 20`` new vectors a process counts the rows and, over the cap, deletes
the least recently used down to 90 % of it.  That delete is one SQLite transaction, so a
crash leaves the file as it was before or after it.  Rewriting the file and renaming it
into place would not be safe here: other processes keep it open in WAL mode, and their
writes would go to the old file or meet a write-ahead log of another database.  Freed pages
are reused by later inserts, so the file stops growing at about the cap's size (about
2.1 kB a row for a 384-dimension model) instead of shrinking.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ingest.types import sha256_hex

log = logging.getLogger(__name__)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS vectors "
    "(digest TEXT PRIMARY KEY, vector BLOB NOT NULL, used INTEGER NOT NULL DEFAULT 0)"
)
_USED_INDEX = "CREATE INDEX IF NOT EXISTS vectors_used ON vectors (used)"
_BATCH = 500  # SQLite's bound-parameter limit is far above this; keeps statements small
_TOUCH_SECONDS = 3600  # how stale a row's `used` may get before a read refreshes it
DEFAULT_MAX_ROWS = 100_000


def text_digest(text: str) -> str:
    return sha256_hex(text)[:32]


def _add_used_column(conn: sqlite3.Connection) -> None:
    """Files written before the cap have no `used`: their rows count as oldest."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(vectors)")}
    if "used" not in columns:
        try:
            conn.execute("ALTER TABLE vectors ADD COLUMN used INTEGER NOT NULL DEFAULT 0")
        except sqlite3.OperationalError as exc:
            if "duplicate column" not in str(exc):  # another process added it first
                raise
    conn.execute(_USED_INDEX)


class DiskVectors:
    """A text -> unit vector table in one SQLite file (WAL: readers never wait)."""

    def __init__(
        self,
        path: Path,
        *,
        max_rows: int = DEFAULT_MAX_ROWS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.max_rows = max_rows
        self._clock = clock
        self._local = threading.local()
        self._broken = False
        self._check_every = max(1, max_rows // 20)
        self._added = self._check_every  # so a process's first write checks the size
        self._count_lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=5.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)
            _add_used_column(conn)
            conn.commit()
            self._local.conn = conn
        return conn

    def get(self, texts: Sequence[str]) -> dict[str, np.ndarray[Any, Any]]:
        """The stored vectors of those texts that have one."""
        if self._broken or not texts:
            return {}
        by_digest = {text_digest(t): t for t in texts}
        found: dict[str, np.ndarray[Any, Any]] = {}
        digests = list(by_digest)
        now = int(self._clock())
        stale: list[str] = []
        try:
            conn = self._connection()
            for start in range(0, len(digests), _BATCH):
                part = digests[start : start + _BATCH]
                marks = ",".join("?" * len(part))
                rows = conn.execute(
                    f"SELECT digest, vector, used FROM vectors WHERE digest IN ({marks})",
                    part,
                ).fetchall()
                for digest, blob, used in rows:
                    found[by_digest[digest]] = np.frombuffer(blob, dtype=np.float32).astype(float)
                    if used < now - _TOUCH_SECONDS:
                        stale.append(digest)
        except sqlite3.Error as exc:
            self._give_up(exc)
            return {}
        if stale:
            self._touch(conn, stale, now)
        return found

    def _touch(self, conn: sqlite3.Connection, digests: list[str], now: int) -> None:
        try:
            with conn:
                for start in range(0, len(digests), _BATCH):
                    part = digests[start : start + _BATCH]
                    marks = ",".join("?" * len(part))
                    conn.execute(
                        f"UPDATE vectors SET used = ? WHERE digest IN ({marks})", [now, *part]
                    )
        except sqlite3.OperationalError as exc:  # busy: eviction is a little less exact
            log.debug("block vectors: use not recorded: %s", exc)

    def put(self, vectors: Mapping[str, np.ndarray[Any, Any]]) -> None:
        if self._broken or not vectors:
            return
        now = int(self._clock())
        rows = [
            (text_digest(t), np.asarray(v, dtype=np.float32).tobytes(), now)
            for t, v in vectors.items()
        ]
        try:
            conn = self._connection()
            with conn:
                conn.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?, ?)", rows)
        except sqlite3.Error as exc:
            self._give_up(exc)
            return
        with self._count_lock:
            self._added += len(rows)
            due = self._added >= self._check_every
            if due:
                self._added = 0
        if due:
            self.trim()

    def trim(self) -> int:
        """Over ``max_rows``, delete the least recently used down to 90 % of it; returns
        how many were deleted."""
        if self._broken:
            return 0
        try:
            conn = self._connection()
            count = int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])
            if count <= self.max_rows:
                return 0
            excess = count - self.max_rows * 9 // 10
            with conn:
                deleted = conn.execute(
                    "DELETE FROM vectors WHERE rowid IN "
                    "(SELECT rowid FROM vectors ORDER BY used LIMIT ?)",
                    (excess,),
                ).rowcount
        except sqlite3.OperationalError as exc:  # busy: the next check trims instead
            log.debug("block vectors: not trimmed: %s", exc)
            return 0
        except sqlite3.Error as exc:
            self._give_up(exc)
            return 0
        log.info("block vector file %s: %d least recently used dropped", self.path, deleted)
        return int(deleted)

    def _give_up(self, exc: sqlite3.Error) -> None:
        self._broken = True
        log.warning("block vector file %s unusable, embedding in memory only: %s", self.path, exc)
