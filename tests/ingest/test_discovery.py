"""File discovery: suffixes, hidden files, exclude globs and corpus manifests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.discovery import discover
from ingest.types import LoadError


def _rel(files: list[Path], root: Path) -> list[str]:
    return [f.relative_to(root).as_posix() for f in files]


def test_grid_with_manifest(grid_root: Path) -> None:
    found = discover(grid_root, exclude=(), use_manifest=True)
    assert len(found.files) == 321
    assert found.files == sorted(found.files)
    assert all(f.is_absolute() and f.is_file() for f in found.files)
    rel = _rel(found.files, grid_root)
    assert "openapi.yaml" not in rel
    assert "README.md" not in rel
    assert set(found.manifest) == set(rel)
    row = found.manifest["docs/guides/api-reference/authentication.md"]
    assert row["title"] == "Authentication"
    assert row["kind"] == "guide"


def test_grid_without_manifest(grid_root: Path) -> None:
    found = discover(grid_root, exclude=(), use_manifest=False)
    rel = _rel(found.files, grid_root)
    assert len(rel) == 321 + 2  # the docs, README.md and openapi.yaml
    assert {"README.md", "openapi.yaml"} <= set(rel)
    assert "manifest.jsonl" not in rel
    assert "LICENSE" not in rel
    assert found.manifest == {}


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (["docs/api-reference/**"], 321 - 189),
        (["docs/api-reference"], 321 - 189),  # a directory excludes everything below it
        (["**/_sections/*.md"], 321 - 23),
        (["_sections"], 321 - 23),  # a bare name matches at any depth
        (["docs/guides/*.md"], None),
    ],
)
def test_exclude_globs_with_manifest(
    grid_root: Path, patterns: list[str], expected: int | None
) -> None:
    found = discover(grid_root, exclude=patterns, use_manifest=True)
    rel = _rel(found.files, grid_root)
    assert set(found.manifest) == set(rel)
    if expected is not None:
        assert len(rel) == expected
    else:
        # `*` stays within one directory: only the top-level guide pages go
        assert not [r for r in rel if r.count("/") == 2 and r.startswith("docs/guides/")]
        assert [r for r in rel if r.startswith("docs/guides/ramps/")]


def test_exclude_by_suffix_without_manifest(grid_root: Path) -> None:
    rel = _rel(discover(grid_root, exclude=["*.yaml"], use_manifest=False).files, grid_root)
    assert "openapi.yaml" not in rel
    assert len(rel) == 322


def test_btcpay_manifest(shared_data: Path) -> None:
    root = shared_data / "corpus_btcpay"
    found = discover(root, exclude=(), use_manifest=True)
    assert len(found.files) == 114
    assert found.manifest["docs/WooCommerce.md"]["kind"] == "guide"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    files = {
        "guide.md": "# Guide",
        "api/spec.yaml": "openapi: 3.1.0\npaths: {}\n",
        "api/config.json": '{"not": "a spec"}',
        "notes/readme.txt": "notes",
        "notes/image.png": "png",
        "notes/data.jsonl": "{}",
        ".hidden.md": "# hidden",
        ".git/HEAD.md": "# git",
        "sub/.cache/page.md": "# cached",
        "sub/page.MDX": "# upper-case suffix",
        "sub/deep/page.html": "<h1>x</h1>",
    }
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return tmp_path


def test_walk_rules(tree: Path) -> None:
    found = discover(tree, exclude=(), use_manifest=True)  # no manifest here: walk
    assert _rel(found.files, tree) == [
        "api/config.json",  # not a spec, but that is for the loader to say
        "api/spec.yaml",
        "guide.md",
        "notes/readme.txt",
        "sub/deep/page.html",
        "sub/page.MDX",
    ]


def test_root_is_a_file(tree: Path) -> None:
    found = discover(tree / "notes/image.png", exclude=("*.png",), use_manifest=True)
    assert found.files == [tree / "notes/image.png"]
    assert found.manifest == {}


def test_missing_root(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no such file or directory"):
        discover(tmp_path / "nope", exclude=(), use_manifest=False)


def _write_manifest(root: Path, rows: list[object]) -> None:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    (root / "manifest.jsonl").write_text("\n".join(lines) + "\n")


def test_manifest_restricts_and_ignores_missing_files(tree: Path) -> None:
    _write_manifest(
        tree,
        [
            {"path": "guide.md", "title": "Guide", "kind": "guide"},
            "",
            {"path": "./sub/page.MDX", "title": "Sub"},
            {"path": "gone.md", "title": "Deleted since"},
            {"path": "notes/image.png"},
            {"path": ".hidden.md"},
        ],
    )
    found = discover(tree, exclude=(), use_manifest=True)
    assert _rel(found.files, tree) == ["guide.md", "sub/page.MDX"]
    assert found.manifest["guide.md"]["kind"] == "guide"
    assert found.manifest["sub/page.MDX"]["title"] == "Sub"
    # the manifest is ignored when asked to
    assert len(discover(tree, exclude=(), use_manifest=False).files) == 6


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "line 2: invalid JSON"),
        ('["a list"]', "line 2: expected an object with a string 'path'"),
        ('{"title": "no path"}', "line 2: expected an object with a string 'path'"),
        ('{"path": "../escape.md"}', "line 2: path '../escape.md' is outside the root"),
        ('{"path": "/etc/passwd.md"}', "line 2: path '/etc/passwd.md' is outside the root"),
    ],
)
def test_malformed_manifest_names_the_line(tree: Path, bad_line: str, message: str) -> None:
    _write_manifest(tree, [{"path": "guide.md"}, bad_line])
    with pytest.raises(LoadError) as info:
        discover(tree, exclude=(), use_manifest=True)
    assert message in info.value.reason
    assert info.value.path.endswith("manifest.jsonl")
