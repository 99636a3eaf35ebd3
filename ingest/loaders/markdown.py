"""Markdown and MDX pages: YAML front matter for title/url, components stripped."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from ingest.loaders.mdx import clean_mdx
from ingest.loaders.source_file import Hints, doc_id_for
from ingest.types import LoadError, MetadataValue, SourceDocument

# The library's YAML handler, its boundary narrowed to what the loader has always taken:
# '---' alone on line 1 opens (checked before splitting), '---' or '...' alone closes.
_FRONT_MATTER = YAMLHandler(fm_boundary=re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE))
_H1 = re.compile(r"^#[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
# Front-matter keys copied into metadata, under the name the rest of the system uses.
_METADATA_KEYS = {
    "description": "description",
    "method": "method",
    "path": "path",
    "operationId": "operation_id",
    "tag": "tags",
    "webhook": "webhook",
}


def load_markdown(path: Path, text: str, *, source: str, hints: Hints) -> SourceDocument:
    front, body = split_front_matter(path, text)
    cleaned = clean_mdx(body) if body.strip() else ""
    title = (
        _text(front.get("title")) or hints.title or _first_h1(cleaned) or PurePosixPath(source).stem
    )
    metadata: dict[str, MetadataValue] = {}
    for key, name in _METADATA_KEYS.items():
        value = _text(front.get(key))
        if value:
            metadata[name] = value
    return SourceDocument(
        doc_id=doc_id_for(source),
        source=source,
        title=title,
        text=cleaned,
        kind=hints.kind or _text(front.get("kind")) or "doc",
        url=_text(front.get("url")) or hints.url,
        metadata=metadata,
    )


def split_front_matter(path: Path, text: str) -> tuple[Mapping[str, Any], str]:
    """The parsed YAML header (empty when there is none) and the body after it."""
    if not (text.startswith("---\n") or text.rstrip("\n") == "---"):
        return {}, text
    try:
        header, body = _FRONT_MATTER.split(text)
    except ValueError:  # no second boundary line to split on
        raise LoadError(path, "front matter opened with '---' on line 1 is never closed") from None
    try:
        # The C loader: the same safe subset as the handler's default, several times faster.
        data = _FRONT_MATTER.load(header, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        raise LoadError(path, f"invalid YAML front matter: {_yaml_problem(exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LoadError(path, f"front matter must be a YAML mapping, not {type(data).__name__}")
    return data, body.lstrip("\n")


def _yaml_problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    # +1: the mark counts from 0 and the header starts with the end of the opening line.
    return f"{problem} (line {mark.line + 1})" if mark is not None else str(problem)


def _text(value: object) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = " ".join(str(value).split())
    return text or None


def _first_h1(markdown: str) -> str | None:
    in_code = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
        elif not in_code and (m := _H1.match(line)):
            return m.group(1).strip()
    return None
