"""Markdown/MDX loading: front matter, component stripping, code kept, real corpus pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.loaders import load_file
from ingest.types import SourceDocument

MAX = 5_000_000
# A component or HTML tag that survived: `<Note`, `</Step>`, `<div`, `<img` …
_RESIDUE = re.compile(
    r"</?(?:[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*|div|span|img|svg|iframe|video|p|a|br|kbd)\b"
)


def _prose_lines(markdown: str) -> list[str]:
    """Lines outside fenced code blocks, with inline code spans removed."""
    lines, fence = [], ""
    for line in markdown.split("\n"):
        marker = re.match(r"^(`{3,}|~{3,})", line)
        if marker and not fence:
            fence = marker.group(1)
        elif fence and line.strip() and set(line.strip()) == {fence[0]} and len(line) >= len(fence):
            fence = ""
        elif not fence:
            lines.append(re.sub(r"`[^`]*`", "", line))
    return lines


def _fenced_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```[^\n]*\n.*?^```$", markdown, flags=re.MULTILINE | re.DOTALL)


def _load(path: Path, root: Path, **kwargs: object) -> SourceDocument:
    docs = load_file(path, root, max_bytes=MAX, **kwargs)  # type: ignore[arg-type]
    assert len(docs) == 1
    return docs[0]


def test_grid_page_ids_title_url_and_note_text(grid_root: Path) -> None:
    path = grid_root / "docs/guides/api-reference/authentication.md"
    doc = _load(path, grid_root)
    assert doc.doc_id == "docs/guides/api-reference/authentication"
    assert doc.source == "docs/guides/api-reference/authentication.md"
    assert doc.title == "Authentication"
    assert doc.url == "https://docs.lightspark.com/api-reference/authentication"
    assert doc.kind == "doc"
    assert "<Note>" not in doc.text
    assert "Your API tokens are scoped to either your production or sandbox" in doc.text
    assert '```bash\ncurl -u "{client_id}:{client_secret}"' in doc.text


def test_manifest_row_kind_wins_and_fills_gaps(grid_root: Path, tmp_path: Path) -> None:
    path = grid_root / "docs/guides/api-reference/authentication.md"
    row = {"title": "Other", "url": "https://elsewhere", "kind": "guide"}
    doc = _load(path, grid_root, manifest_row=row)
    assert doc.kind == "guide"
    assert doc.title == "Authentication"  # front matter beats the manifest
    assert doc.url == "https://docs.lightspark.com/api-reference/authentication"

    bare = tmp_path / "bare.md"
    bare.write_text("Some text without a heading.\n")
    doc = _load(bare, tmp_path, manifest_row=row)
    assert (doc.title, doc.url, doc.kind) == ("Other", "https://elsewhere", "guide")


def test_steps_and_tabs_become_bold_titles_with_their_content(grid_root: Path) -> None:
    doc = _load(grid_root / "docs/guides/ramps/quickstart.md", grid_root)
    text = doc.text
    assert "\n**Create the customer**\n\nCall `POST /customers` with `customerType`" in text
    assert "**Verify contact channels (only where required)**" in text
    assert "**Regulated Platforms**" in text
    assert "\n#### Creating Customers via Direct API\n" in text
    assert str(doc.metadata["description"]).startswith("Complete guide for converting fiat")


def test_accordion_titles_kept(grid_root: Path) -> None:
    path = grid_root / "docs/guides/ramps/conversion-flows/fiat-crypto-conversion.md"
    text = _load(path, grid_root).text
    for title in ("Handle quote expiration", "Settlement times by payment rail"):
        assert f"\n**{title}**\n" in text


def test_param_and_response_fields_keep_name_and_type(grid_root: Path) -> None:
    path = grid_root / "docs/guides/rewards/onboarding/configuring-customers.md"
    text = _load(path, grid_root).text
    assert "**platformCustomerId** (query, string)" in text
    path = grid_root / "docs/guides/ramps/onboarding/configuring-customers.md"
    text = _load(path, grid_root).text
    assert "**id** (string, required)\n\nUnique identifier for this webhook delivery" in text


def test_top_level_code_blocks_are_byte_for_byte(grid_root: Path) -> None:
    checked = 0
    for path in sorted((grid_root / "docs/guides").rglob("*.md")):
        raw = path.read_text(encoding="utf-8")
        text = _load(path, grid_root).text
        for block in _fenced_blocks(raw):
            assert block in text, f"{path.name}: {block[:80]}"
            checked += 1
    assert checked > 500


def test_indented_code_in_tabs_is_dedented_but_otherwise_intact(grid_root: Path) -> None:
    text = _load(grid_root / "docs/guides/ramps/quickstart.md", grid_root).text
    expected = (
        '```json\n{\n  "platformCustomerId": "9f84e0c2a72c4fa",\n  "customerType": "INDIVIDUAL",'
    )
    assert expected in text


def test_no_component_residue_in_any_grid_page(grid_root: Path) -> None:
    paths = sorted((grid_root / "docs").rglob("*.md"))
    assert len(paths) == 321
    problems = []
    for path in paths:
        doc = _load(path, grid_root)
        for line in _prose_lines(doc.text):
            if _RESIDUE.search(line) or "{/*" in line or "React." in line:
                problems.append(f"{doc.source}: {line.strip()[:100]}")
    assert problems == []


def test_exported_component_bodies_are_dropped(grid_root: Path) -> None:
    text = _load(grid_root / "docs/guides/index.md", grid_root).text
    assert "useState" not in text
    assert "className" not in text
    assert "Build applications and financial products that move money globally" in text
    receipts = grid_root / "docs/guides/payouts-and-b2b/payment-flow/receipts.md"
    text = _load(receipts, grid_root).text
    assert "const mono" not in text
    assert "fontFamily" not in text
    assert "Receipts are **required for regulatory compliance**" in text


def test_vuepress_admonitions_and_toc(shared_data: Path) -> None:
    root = shared_data / "corpus_btcpay"
    doc = _load(root / "docs/WooCommerce.md", root)
    assert "[[toc]]" not in doc.text
    assert not any(line.startswith(":::") for line in _prose_lines(doc.text))
    assert "**Note**\n\nThis guide refers to the BTCPay for WooCommerce V2 plugin" in doc.text
    assert "**Warning**" in doc.text


def test_all_btcpay_pages_load_without_admonition_fences(shared_data: Path) -> None:
    root = shared_data / "corpus_btcpay"
    for path in sorted((root / "docs").rglob("*.md")):
        doc = _load(path, root)
        assert doc.title
        assert doc.text
        assert not [ln for ln in _prose_lines(doc.text) if ln.lstrip().startswith(":::")]


def test_prose_inside_a_jsx_attribute_is_kept(shared_data: Path) -> None:
    root = shared_data / "corpus_stellar"
    text = _load(root / "docs/build/apps/wallet/sep24.md", root).text
    assert "Next, let's get the channel provided by `WatcherResult` to receive events." in text
    assert "LanguageSpecific" not in text
    assert "} />" not in text


MDX = """---
title: Widgets
url: https://docs.example.com/widgets
description: All about widgets
kind: reference
---
import { Foo } from '/snippets/foo.mdx'
export const meta = { a: 1 }

# Widgets guide

{/* a comment that must vanish */}
<Note>Read this <kbd>first</kbd>.</Note>

<AccordionGroup>
  <Accordion title="How do I reset a widget?">
    Call `POST /widgets/{id}/reset` with `<ID>` set.
  </Accordion>
</AccordionGroup>

<Card title="Quickstart" href="/quickstart" icon="rocket" />

<ParamField path="widgetId" type="string" required>
  The widget to fetch.
</ParamField>

Pass <YOUR_API_KEY> and use a < b in prose; see <https://example.com>.

```tsx
import { Widget } from "widgets";


export const App = () => <Tabs><Tab title="x">1 < 2</Tab></Tabs>;
```
"""


def test_synthetic_mdx_components(tmp_path: Path) -> None:
    page = tmp_path / "guides" / "widgets.mdx"
    page.parent.mkdir()
    page.write_text(MDX)
    doc = _load(page, tmp_path)
    assert doc.doc_id == "guides/widgets"
    assert doc.source == "guides/widgets.mdx"
    assert (doc.title, doc.url, doc.kind) == (
        "Widgets",
        "https://docs.example.com/widgets",
        "reference",
    )
    assert doc.metadata == {"description": "All about widgets"}
    text = doc.text
    assert "import { Foo }" not in text
    assert "export const meta" not in text
    assert "a comment" not in text
    assert "Read this first." in text
    assert (
        "**How do I reset a widget?**\n\nCall `POST /widgets/{id}/reset` with `<ID>` set." in text
    )
    assert "**Quickstart**" in text
    assert "**widgetId** (path, string, required)\n\nThe widget to fetch." in text
    assert "Pass <YOUR_API_KEY> and use a < b in prose; see <https://example.com>." in text
    code = (
        '```tsx\nimport { Widget } from "widgets";\n\n\n'
        'export const App = () => <Tabs><Tab title="x">1 < 2</Tab></Tabs>;\n```'
    )
    assert code in text
    assert "<Accordion" not in text.replace(code, "")


@pytest.mark.parametrize(
    ("content", "title"),
    [
        ("Intro line.\n\n# The Heading\n\nBody.\n", "The Heading"),
        ("```\n# not a heading\n```\nNo heading here.\n", "stem-name"),
    ],
)
def test_title_fallbacks(tmp_path: Path, content: str, title: str) -> None:
    page = tmp_path / "stem-name.md"
    page.write_text(content)
    assert _load(page, tmp_path).title == title


def test_empty_front_matter_and_windows_newlines(tmp_path: Path) -> None:
    page = tmp_path / "crlf.markdown"
    page.write_bytes(b"---\r\n---\r\n# Title here\r\n\r\nText.\r\n")
    doc = _load(page, tmp_path)
    assert doc.title == "Title here"
    assert "\r" not in doc.text
    assert doc.doc_id == "crlf"
