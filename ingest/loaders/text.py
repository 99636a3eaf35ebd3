"""Plain text and reStructuredText: kept as they are, with a best-effort title."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from ingest.loaders.source_file import Hints, doc_id_for
from ingest.types import SourceDocument

# reST over/underlines ("=====", "-----") are decoration, never a title.
_ADORNMENT = re.compile(r"^([=\-~^\"'`#*+.:_])\1{2,}\s*$")
_MAX_TITLE_CHARS = 80


def load_text(text: str, *, source: str, hints: Hints) -> SourceDocument:
    return SourceDocument(
        doc_id=doc_id_for(source),
        source=source,
        title=hints.title or _title_from_text(text) or PurePosixPath(source).stem,
        text=text.strip("\n") + "\n" if text.strip() else "",
        kind=hints.kind or "doc",
        url=hints.url,
    )


def _title_from_text(text: str) -> str | None:
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or _ADORNMENT.match(stripped):
            continue
        return stripped if len(stripped) <= _MAX_TITLE_CHARS else None
    return None
