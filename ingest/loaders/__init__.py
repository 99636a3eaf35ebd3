"""Turn one documentation file into `SourceDocument`s, choosing the loader by file type."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ingest.loaders.html import load_html
from ingest.loaders.markdown import load_markdown
from ingest.loaders.openapi import is_openapi3, load_openapi, parse_document
from ingest.loaders.source_file import Hints, read_text, relative_source
from ingest.loaders.text import load_text
from ingest.types import LoadError, SourceDocument

__all__ = ["SUPPORTED_SUFFIXES", "load_file"]

_MARKDOWN = frozenset({".md", ".mdx", ".markdown"})
_HTML = frozenset({".html", ".htm"})
_SPEC = frozenset({".yaml", ".yml", ".json"})
_TEXT = frozenset({".txt", ".rst"})
SUPPORTED_SUFFIXES: frozenset[str] = _MARKDOWN | _HTML | _SPEC | _TEXT


def load_file(
    path: Path,
    root: Path,
    *,
    max_bytes: int,
    manifest_row: Mapping[str, object] | None = None,
) -> list[SourceDocument]:
    """Load `path` (under `root`) into documents, or raise LoadError naming the reason.

    `manifest_row` supplies a fallback title, url and kind for files whose own
    metadata lacks them (an OpenAPI spec yields many documents whose metadata
    comes from the spec, so it ignores the row).
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(path, f"unsupported file type {suffix or '(no extension)'!r}")
    source = relative_source(path, root)
    text = read_text(path, max_bytes)
    hints = Hints.from_row(manifest_row)
    if suffix in _MARKDOWN:
        return [load_markdown(path, text, source=source, hints=hints)]
    if suffix in _HTML:
        return [load_html(text, source=source, hints=hints)]
    if suffix in _TEXT:
        return [load_text(text, source=source, hints=hints)]
    document = parse_document(path, text)
    if not is_openapi3(document):
        raise LoadError(path, "not an OpenAPI 3.x document")
    return load_openapi(path, document, source=source)
