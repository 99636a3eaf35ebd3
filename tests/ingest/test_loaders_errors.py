"""Files that cannot be loaded fail with a LoadError that names the reason."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ingest.loaders import SUPPORTED_SUFFIXES, load_file
from ingest.types import LoadError

MAX = 1_048_576


def _reason(path: Path, root: Path, max_bytes: int = MAX) -> str:
    with pytest.raises(LoadError) as info:
        load_file(path, root, max_bytes=max_bytes)
    assert info.value.path == str(path)
    return info.value.reason


def test_supported_suffixes() -> None:
    assert {".md", ".mdx", ".markdown", ".html", ".htm", ".yaml", ".yml", ".json"} <= set(
        SUPPORTED_SUFFIXES
    )
    assert {".txt", ".rst"} <= set(SUPPORTED_SUFFIXES)


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "manual.pdf"
    path.write_bytes(b"%PDF-1.7")
    assert "unsupported file type '.pdf'" in _reason(path, tmp_path)


@pytest.mark.parametrize(
    "content",
    [b"# Title\x00\x01\x02 binary", "caf\u00e9 latin-1".encode("latin-1"), b"\xff\xfe\x00a"],
)
def test_binary_or_non_utf8(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "page.md"
    path.write_bytes(content)
    assert _reason(path, tmp_path) == "binary or non-UTF-8 content"


def test_file_over_the_size_limit_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    with path.open("wb") as handle:  # sparse: 50 MB on paper, nothing on disk
        handle.truncate(50 * 1024 * 1024)
    started = time.perf_counter()
    reason = _reason(path, tmp_path)
    assert time.perf_counter() - started < 1.0
    assert "52,428,800 bytes" in reason
    assert "1,048,576-byte limit" in reason


def test_file_exactly_at_the_limit_loads(tmp_path: Path) -> None:
    path = tmp_path / "edge.txt"
    path.write_bytes(b"a" * 100)
    [doc] = load_file(path, tmp_path, max_bytes=100)
    assert doc.text.startswith("a")


def test_broken_front_matter_names_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.md"
    path.write_text("---\ntitle: Fine\nurl: [unclosed\n---\n# Body\n")
    reason = _reason(path, tmp_path)
    assert reason.startswith("invalid YAML front matter:")
    assert "line" in reason


def test_unterminated_and_non_mapping_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "open.md"
    path.write_text("---\ntitle: Never closed\n\n# Body\n")
    assert "never closed" in _reason(path, tmp_path)
    path.write_text("---\n- just\n- a list\n---\nBody\n")
    assert "front matter must be a YAML mapping, not list" in _reason(path, tmp_path)


def test_invalid_json_spec(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text('{"openapi": "3.1.0", "paths": {,}}')
    reason = _reason(path, tmp_path)
    assert reason.startswith("invalid JSON:")
    assert "line 1" in reason


def test_yaml_syntax_error_reports_position(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("openapi: 3.1.0\npaths:\n  /a:\n    get: {responses: [}\n")
    reason = _reason(path, tmp_path)
    assert reason.startswith("invalid YAML:")
    assert "line 4" in reason


def test_directory_named_like_a_file(tmp_path: Path) -> None:
    path = tmp_path / "looks-like-a-page.md"
    path.mkdir()
    assert "cannot read file: Is a directory" in _reason(path, tmp_path)


def test_dangling_symlink(tmp_path: Path) -> None:
    path = tmp_path / "gone.md"
    path.symlink_to(tmp_path / "missing-target.md")
    assert "cannot read file: No such file or directory" in _reason(path, tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "secret.md"
    path.write_text("# Secret\n")
    path.chmod(0)
    try:
        assert "cannot read file: Permission denied" in _reason(path, tmp_path)
    finally:
        path.chmod(0o644)


def test_file_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "elsewhere.md"
    outside.write_text("# Elsewhere\n")
    assert "not under the ingested root" in _reason(outside, root)


def test_root_that_is_the_file_itself(tmp_path: Path) -> None:
    path = tmp_path / "single.rst"
    path.write_text("Release notes\n=============\n\nVersion 2.\n")
    [doc] = load_file(path, path, max_bytes=MAX)
    assert (doc.doc_id, doc.source, doc.title, doc.kind) == (
        "single",
        "single.rst",
        "Release notes",
        "doc",
    )


def test_plain_text_with_a_long_first_line_is_titled_by_its_stem(tmp_path: Path) -> None:
    path = tmp_path / "notes" / "changelog.txt"
    path.parent.mkdir()
    path.write_text("x" * 200 + "\nmore\n")
    row = {"kind": "changelog", "url": "https://example.com/changelog"}
    [doc] = load_file(path, tmp_path, max_bytes=MAX, manifest_row=row)
    assert (doc.doc_id, doc.title, doc.kind, doc.url) == (
        "notes/changelog",
        "changelog",
        "changelog",
        "https://example.com/changelog",
    )
