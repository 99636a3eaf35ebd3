"""What a sync tells its caller: progress while it runs, a report when it is done."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ProgressCallback = Callable[["SyncProgress"], None]


@dataclass
class SyncProgress:
    files_total: int = 0
    files_done: int = 0
    chunks_written: int = 0
    embeddings_computed: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def embeddings_per_second(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.embeddings_computed / elapsed if elapsed > 0 else 0.0


@dataclass
class SyncReport:
    docs_seen: int = 0
    docs_added: int = 0
    docs_updated: int = 0
    docs_unchanged: int = 0
    docs_deleted: int = 0
    docs_failed: int = 0
    chunks_written: int = 0
    chunks_deleted: int = 0
    embeddings_computed: int = 0
    seconds: float = 0.0
    failures: list[dict[str, str]] = field(default_factory=list)
    # Chunks the passage screener distrusts (never quoted, never put in a prompt).
    flagged: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "docs_seen": self.docs_seen,
            "docs_added": self.docs_added,
            "docs_updated": self.docs_updated,
            "docs_unchanged": self.docs_unchanged,
            "docs_deleted": self.docs_deleted,
            "docs_failed": self.docs_failed,
            "chunks_written": self.chunks_written,
            "chunks_deleted": self.chunks_deleted,
            "embeddings_computed": self.embeddings_computed,
            "seconds": round(self.seconds, 3),
            "failures": self.failures,
            "flagged": sorted(self.flagged, key=lambda r: (r["source"], r["line"], r["chunk_id"])),
        }
