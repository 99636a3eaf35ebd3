"""Find the documentation files under a root, optionally restricted by a corpus manifest."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.types import LoadError

MANIFEST_NAME = "manifest.jsonl"


@dataclass(frozen=True)
class Discovery:
    files: list[Path]  # absolute, sorted
    manifest: dict[str, Mapping[str, object]] = field(default_factory=dict)  # by relative path


def discover(root: Path, *, exclude: Sequence[str], use_manifest: bool) -> Discovery:
    """The loadable files under `root` (or `root` itself when it is a file).

    Hidden files and directories, files matching an `exclude` glob (relative to
    `root`; `**` crosses directories, a pattern without `/` matches a name at any
    depth) and unsupported extensions are skipped.  With `use_manifest` and a
    `manifest.jsonl` in `root`, only the files it lists are returned, with their rows.
    Whether a .yaml/.json file really is an OpenAPI spec is left to the loader.
    """
    root = Path(os.path.abspath(root))
    if root.is_file():
        # Named explicitly: load it even if its type is unsupported, so the loader can say why.
        return Discovery(files=[root])
    if not root.is_dir():
        raise LoadError(root, "no such file or directory")
    patterns = [_compile(p) for p in exclude if p.strip()]

    def wanted(rel: str) -> bool:
        parts = rel.split("/")
        if any(part.startswith(".") for part in parts):
            return False
        if PurePosixPath(rel).suffix.lower() not in SUPPORTED_SUFFIXES:
            return False
        return not _excluded(rel, patterns)

    manifest_path = root / MANIFEST_NAME
    if use_manifest and manifest_path.is_file():
        rows = _read_manifest(manifest_path)
        kept = {rel: row for rel, row in rows.items() if wanted(rel) and (root / rel).is_file()}
        return Discovery(files=sorted(root / rel for rel in kept), manifest=kept)
    files = [root / rel for rel in _walk(root) if wanted(rel)]
    return Discovery(files=sorted(files))


def _walk(root: Path) -> list[str]:
    found: list[str] = []
    for directory, dirs, names in os.walk(root):
        # Pruning hidden directories here keeps .git and .venv from being walked at all.
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = PurePosixPath(Path(directory).relative_to(root).as_posix())
        found.extend((base / name).as_posix() for name in names if not name.startswith("."))
    return found


def _read_manifest(path: Path) -> dict[str, Mapping[str, object]]:
    rows: dict[str, Mapping[str, object]] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(path, f"cannot read manifest: {exc}") from exc
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LoadError(path, f"line {number}: invalid JSON ({exc.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("path"), str):
            raise LoadError(path, f"line {number}: expected an object with a string 'path'")
        rel = _normalise(row["path"])
        if rel is None:
            raise LoadError(path, f"line {number}: path {row['path']!r} is outside the root")
        rows.setdefault(rel, row)
    return rows


def _normalise(rel: str) -> str | None:
    parts = [p for p in PurePosixPath(rel.replace("\\", "/")).parts if p not in ("", ".")]
    if not parts or rel.startswith("/") or ".." in parts:
        return None
    return "/".join(parts)


def _excluded(rel: str, patterns: list[re.Pattern[str]]) -> bool:
    parts = rel.split("/")
    # A pattern naming a directory excludes everything below it.
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(p.fullmatch(c) for p in patterns for c in candidates)


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    """fnmatch-style glob to regex: `*` and `?` stay within a path segment, `**` does not."""
    glob = pattern.strip().strip("/")
    if "/" not in glob:
        glob = "**/" + glob  # like .gitignore: a bare name matches at any depth
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[" and (end := glob.find("]", i + 2)) > 0:
            body = glob[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            out.append(f"[{'^' if negate else ''}{body.replace(chr(92), chr(92) * 2)}]")
            i = end + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out))
