"""A small corpus for a self-contained eval: the dataset's gold pages plus distractors.

Ingesting a whole corpus takes minutes; a regression eval in CI needs only the pages its
questions are answered by, plus some unrelated pages so retrieval still has to choose.
The files are copied (never linked: the source may be read-only and on another mount)
into a scratch folder with the same relative paths, so doc ids are unchanged, together
with the matching rows of the corpus manifest, so titles, URLs and kinds are too.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from evals.datasets.loader import EvalItem

MANIFEST = "manifest.jsonl"
# Distractors are picked among pages up to this size so the subset stays cheap to embed.
MAX_DISTRACTOR_TOKENS = 2500
_SUFFIXES = (".md", ".mdx", ".html", ".htm", ".txt", ".yaml", ".yml", ".json")


def _manifest_rows(root: Path) -> list[dict[str, object]]:
    path = root / MANIFEST
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if isinstance(row, dict):
                rows.append(row)
    return rows


def _doc_files(root: Path, rows: Sequence[dict[str, object]]) -> dict[str, Path]:
    """doc id (relative path without suffix) -> file, for the files a sync would read."""
    if rows:
        rels = [str(r["path"]) for r in rows if isinstance(r.get("path"), str)]
    else:
        rels = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    files = {}
    for rel in rels:
        path = root / rel
        if path.suffix.lower() in _SUFFIXES and path.is_file():
            files[rel.rsplit(".", 1)[0]] = path
    return files


def _size(row: dict[str, object] | None, path: Path) -> int:
    tokens = row.get("tokens_cl100k") if row else None
    return int(tokens) if isinstance(tokens, int) else path.stat().st_size // 4


def pick_documents(
    root: Path, items: Iterable[EvalItem], distractors: int
) -> tuple[list[str], list[str]]:
    """(gold doc ids found under root, distractor doc ids) for the subset.

    Distractors are the non-gold pages under `MAX_DISTRACTOR_TOKENS`, in the order of a
    hash of their path: stable across runs and machines, unrelated to the questions.
    """
    rows = _manifest_rows(root)
    by_doc = {str(r["path"]).rsplit(".", 1)[0]: r for r in rows if isinstance(r.get("path"), str)}
    files = _doc_files(root, rows)
    wanted = dict.fromkeys(d for item in items for d in item.gold_doc_ids)
    gold = [d for d in wanted if d in files]
    candidates = [
        d
        for d in files
        if d not in wanted
        and by_doc.get(d, {}).get("canonical", True) is not False
        and _size(by_doc.get(d), files[d]) <= MAX_DISTRACTOR_TOKENS
    ]
    candidates.sort(key=lambda d: hashlib.sha256(d.encode()).hexdigest())
    return gold, sorted(candidates[: max(distractors, 0)])


def build_subset(root: Path, items: Iterable[EvalItem], distractors: int, dest: Path) -> Path:
    """Copy the gold and distractor pages of `root` into `dest`; return `dest`."""
    root = root.resolve()
    gold, extra = pick_documents(root, items, distractors)
    rows = _manifest_rows(root)
    files = _doc_files(root, rows)
    keep = {files[d].relative_to(root).as_posix() for d in [*gold, *extra]}
    for rel in sorted(keep):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / rel, target)
    if rows:
        kept_rows = [r for r in rows if r.get("path") in keep]
        (dest / MANIFEST).write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept_rows),
            encoding="utf-8",
        )
    return dest
