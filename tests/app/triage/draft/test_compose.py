"""Reflowing quoted prose: hard-wrapped doc lines read as whole sentences in every channel."""

from __future__ import annotations

from app.triage.draft.compose import reflow


def test_a_hard_wrapped_paragraph_becomes_one_line() -> None:
    text = (
        "The fixed fee must be in the sending currency; other currencies return\n`NOT_IMPLEMENTED`."
    )
    assert reflow(text) == (
        "The fixed fee must be in the sending currency; other currencies return `NOT_IMPLEMENTED`."
    )


def test_list_items_stay_apart_and_their_wrapped_lines_join() -> None:
    text = "1. Create a quote with\n   `POST /quotes`.\n2. Execute it.\n- a bullet\n  that wraps"
    assert reflow(text).splitlines() == [
        "1. Create a quote with `POST /quotes`.",
        "2. Execute it.",
        "- a bullet that wraps",
    ]


def test_code_fences_inside_a_list_item_are_kept_line_for_line() -> None:
    text = "- Verify the body:\n  ```js\n  const ok = verify(body,\n    sig);\n  ```\n  then reply."
    lines = reflow(text).splitlines()
    assert lines == [
        "- Verify the body:",
        "  ```js",
        "  const ok = verify(body,",
        "    sig);",
        "  ```",
        "  then reply.",
    ]


def test_a_note_is_one_line_without_its_inner_quote_marks() -> None:
    assert reflow("> Amounts are in the smallest unit,\n> cents for USD.") == (
        "> Amounts are in the smallest unit, cents for USD."
    )


def test_table_rows_and_headings_are_not_joined() -> None:
    text = "| code | meaning |\n|---|---|\n| 401 | bad credentials |"
    assert reflow(text) == text


def test_a_bold_label_after_a_list_item_keeps_its_own_line() -> None:
    text = "- Non-U.S. persons: a passport\n**Required documents**\n- a second ID"
    assert reflow(text).splitlines() == [
        "- Non-U.S. persons: a passport",
        "**Required documents**",
        "- a second ID",
    ]
