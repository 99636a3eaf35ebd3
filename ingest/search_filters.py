"""What a search may be narrowed to: kinds of page and a source path prefix.

The persisted index cuts its posting lists by them (ingest/lexical_store.py); dense
search asks Chroma with `chroma_where` or filters its candidates with `accepts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SearchFilters:
    kinds: tuple[str, ...] = ()
    source_prefix: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.kinds or self.source_prefix)

    def accepts(self, meta: Any) -> bool:
        if self.kinds and meta.get("kind") not in self.kinds:
            return False
        return not (
            self.source_prefix and not str(meta.get("source", "")).startswith(self.source_prefix)
        )

    def chroma_where(self) -> dict[str, Any] | None:
        if not self.kinds:
            return None
        return {"kind": {"$in": list(self.kinds)}}
