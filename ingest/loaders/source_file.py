"""A source file as every loader sees it: its bounded text, its contract names (`source`,
`doc_id`) and its manifest hints."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ingest.types import LoadError

BINARY_REASON = "binary or non-UTF-8 content"


@dataclass(frozen=True)
class Hints:
    """Fallback metadata from a corpus manifest row, used when the file itself lacks it."""

    title: str | None = None
    url: str | None = None
    kind: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, object] | None) -> Hints:
        if not row:
            return cls()
        return cls(
            title=_non_empty_str(row.get("title")),
            url=_non_empty_str(row.get("url")),
            kind=_non_empty_str(row.get("kind")),
        )


def _non_empty_str(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def relative_source(path: Path, root: Path) -> str:
    """`path` relative to `root` with POSIX separators (the contract's `source`)."""
    # abspath, not resolve(): a symlinked file inside the root must keep its own name.
    abs_path = Path(os.path.abspath(path))
    abs_root = Path(os.path.abspath(root))
    if abs_path == abs_root:
        return abs_path.name
    try:
        return abs_path.relative_to(abs_root).as_posix()
    except ValueError:
        raise LoadError(path, f"file is not under the ingested root {root}") from None


def doc_id_for(source: str) -> str:
    """The contract's `doc_id`: the relative path without its extension."""
    return PurePosixPath(source).with_suffix("").as_posix()


def read_text(path: Path, max_bytes: int) -> str:
    """Read a UTF-8 text file, refusing oversized, binary and unreadable files."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise LoadError(path, f"file is {size:,} bytes, over the {max_bytes:,}-byte limit")
        with path.open("rb") as handle:
            # Read one byte past the limit so a file that grew since stat() is still caught.
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise LoadError(path, f"cannot read file: {exc.strerror or exc}") from exc
    if len(raw) > max_bytes:
        raise LoadError(path, f"file is over the {max_bytes:,}-byte limit")
    if b"\x00" in raw:
        raise LoadError(path, BINARY_REASON)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LoadError(path, BINARY_REASON) from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
