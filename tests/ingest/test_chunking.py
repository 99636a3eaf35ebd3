from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from ingest.chunking import chunk_markdown, count_tokens, slugify


def _body(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("---", 2)[2]


def test_heading_paths_and_anchors_follow_the_tree() -> None:
    text = (
        "# Webhooks\n\nIntro paragraph about webhooks and why they matter for your app.\n\n"
        "## Verifying signatures\n\n" + "Check the signature header on every event. " * 20 + "\n\n"
        "### Rotating the secret\n\n" + "Rotate the secret from the dashboard when needed. " * 20
    )
    chunks = chunk_markdown("d", text, max_tokens=120, overlap_tokens=0, min_tokens=10)
    paths = {c.heading_path for c in chunks}
    assert ("Webhooks", "Verifying signatures") in paths
    assert ("Webhooks", "Verifying signatures", "Rotating the secret") in paths
    rotating = [c for c in chunks if c.heading_path[-1] == "Rotating the secret"]
    assert rotating[0].anchor == "rotating-the-secret"
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_every_chunk_fits_the_budget_on_the_real_corpus(grid_root: Path) -> None:
    pages = sorted((grid_root / "docs" / "guides").rglob("*.md"))[:80]
    total = 0
    for page in pages:
        for chunk in chunk_markdown(page.stem, _body(page), max_tokens=200):
            assert chunk.tokens <= 200
            assert count_tokens(chunk.text) == chunk.tokens
            total += 1
    assert total > 80


def test_code_block_is_not_split_when_it_fits() -> None:
    code = "```python\n" + "\n".join(f"x{i} = call_api({i})" for i in range(15)) + "\n```"
    text = "## Example\n\n" + "Some words before the code. " * 25 + "\n\n" + code
    chunks = chunk_markdown("d", text, max_tokens=200, overlap_tokens=20, min_tokens=10)
    holding = [c for c in chunks if "x0 = call_api(0)" in c.text]
    assert len(holding) == 1
    assert "x14 = call_api(14)" in holding[0].text
    assert holding[0].text.count("```") == 2


def test_oversized_code_block_is_split_into_valid_fences() -> None:
    code = "```json\n" + "\n".join(f'  "field_{i}": "value {i}",' for i in range(300)) + "\n```"
    chunks = chunk_markdown("d", "## Big\n\n" + code, max_tokens=150, min_tokens=0)
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.tokens <= 150
        assert chunk.text.count("```") % 2 == 0, chunk.text  # every fence closed
    joined = "\n".join(c.text for c in chunks)
    assert all(f'"field_{i}"' in joined for i in range(300))


def test_long_section_overlaps_between_consecutive_chunks() -> None:
    sentences = [f"Sentence number {i} explains a distinct detail of payouts." for i in range(60)]
    chunks = chunk_markdown(
        "d", "## Payouts\n\n" + " ".join(sentences), max_tokens=100, overlap_tokens=30, min_tokens=0
    )
    assert len(chunks) >= 3
    for first, second in itertools.pairwise(chunks):
        last_sentence = first.text.split(". ")[-1].rstrip(".")
        assert last_sentence in second.text


def test_tiny_sections_merge_into_a_neighbour() -> None:
    text = "## Overview\n\nShort.\n\n## Details\n\n" + "A longer explanation of details. " * 10
    chunks = chunk_markdown("d", text, max_tokens=200, min_tokens=40)
    assert len(chunks) == 1
    assert "Short." in chunks[0].text
    assert "## Details" in chunks[0].text
    assert chunks[0].anchor == "overview"


def test_headings_inside_code_fences_are_not_sections() -> None:
    text = "## Shell\n\n```bash\n# install the SDK\npip install grid\n```\n"
    chunks = chunk_markdown("d", text, min_tokens=0)
    assert [c.heading_path for c in chunks] == [("Shell",)]
    assert "# install the SDK" in chunks[0].text


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("What is a Quote?", "what-is-a-quote"),
        ("Step 2: Create `customer`", "step-2-create-customer"),
        ("Rate limits & retries", "rate-limits-retries"),
    ],
)
def test_slugify_matches_docs_site_anchors(heading: str, anchor: str) -> None:
    assert slugify(heading) == anchor


@pytest.mark.parametrize(
    ("kept_whole", "unit"),
    [
        # An abbreviation's full stop ends no sentence.
        ("funding (e.g. ACH pull with an external account).", "a field description"),
        # Nor does a colon inside inline code.
        ("send it (with `customerType: INDIVIDUAL`) first.", "an inline code span"),
    ],
)
def test_a_long_line_is_not_cut_inside(kept_whole: str, unit: str) -> None:
    # One more short sentence at a time before the phrase moves the chunk boundaries across
    # it; before the fix every eighth or so cut it.
    tail = " ".join(f"Sentence number {i} says nothing new." for i in range(12))
    for lead in range(30):
        head = " ".join(f"Fact {i} is stated." for i in range(lead))
        text = f"## Fields\n\n- `source` (string): {head} Use it for {kept_whole} {tail}\n"
        chunks = chunk_markdown("d", text, max_tokens=60, overlap_tokens=0, min_tokens=0)
        assert any(kept_whole in c.text for c in chunks), f"{unit} was cut ({lead} sentences)"
