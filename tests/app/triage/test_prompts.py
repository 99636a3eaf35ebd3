"""Prompt files: loading, strict rendering, hashing."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from app.triage.prompts import PromptError, default_prompts_dir, load_prompt

SHIPPED = ("draft_reply", "classify")

TEMPLATE = """---
id: demo
version: 3
variables: [name, question]
description: a test prompt
---

## system

Reply as JSON like {"answer": "...", "items": [{"id": 1}]} and greet {{ name }}.

## user

Question: {{question}}
"""


def write(folder: Path, text: str, name: str = "demo") -> Path:
    path = folder / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_prompts_load_from_the_default_folder(name: str) -> None:
    template = load_prompt(name)

    assert template.id == name
    assert template.version
    assert template.variables
    path = default_prompts_dir() / f"{name}.md"
    assert template.hash == hashlib.sha256(path.read_bytes()).hexdigest()
    messages = template.render(**{v: f"<{v}>" for v in template.variables})
    assert [type(m) for m in messages] == [SystemMessage, HumanMessage]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_prompts_keep_variable_parts_out_of_the_system_message(name: str) -> None:
    # The system part must be byte-identical across requests so provider prompt caching
    # applies; only per-deployment values (the taxonomy) may vary it.
    template = load_prompt(name)
    per_deployment = {"categories", "fallback"}
    first = template.render(**dict.fromkeys(template.variables, "one"))
    second = template.render(
        **{v: ("one" if v in per_deployment else "two") for v in template.variables}
    )
    assert first[0].content == second[0].content
    assert first[1].content != second[1].content


def test_render_substitutes_both_placeholder_spellings_and_keeps_json_braces(
    tmp_path: Path,
) -> None:
    write(tmp_path, TEMPLATE)
    template = load_prompt("demo", tmp_path)

    system, user = template.render(name="Ana", question="why 401?")

    assert system.content == (
        'Reply as JSON like {"answer": "...", "items": [{"id": 1}]} and greet Ana.'
    )
    assert user.content == "Question: why 401?"
    assert (template.id, template.version, template.description) == (
        "demo",
        "3",
        "a test prompt",
    )


def test_values_are_not_expanded_a_second_time(tmp_path: Path) -> None:
    write(tmp_path, TEMPLATE)
    template = load_prompt("demo", tmp_path)

    _, user = template.render(name="{{ question }}", question="{{ name }} \\1 {x}")

    assert user.content == "Question: {{ name }} \\1 {x}"


def test_missing_variable_fails(tmp_path: Path) -> None:
    write(tmp_path, TEMPLATE)
    template = load_prompt("demo", tmp_path)
    with pytest.raises(PromptError, match="missing question"):
        template.render(name="Ana")


def test_extra_variable_fails(tmp_path: Path) -> None:
    write(tmp_path, TEMPLATE)
    template = load_prompt("demo", tmp_path)
    with pytest.raises(PromptError, match="unexpected tone"):
        template.render(name="Ana", question="q", tone="formal")


def test_hash_changes_when_the_file_changes(tmp_path: Path) -> None:
    shutil.copy(default_prompts_dir() / "draft_reply.md", tmp_path / "draft_reply.md")
    before = load_prompt("draft_reply", tmp_path)
    assert before.hash == load_prompt("draft_reply").hash

    path = tmp_path / "draft_reply.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nBe brief.\n", encoding="utf-8")
    after = load_prompt("draft_reply", tmp_path)

    assert after.hash != before.hash
    assert after.hash == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("## system\nhi\n## user\n{{ x }}\n", "front matter", id="no-front-matter"),
        pytest.param(
            "---\nid: d\nversion: 1\nvariables: [x]\n---\n## user\n{{ x }}\n",
            "sections",
            id="no-system-section",
        ),
        pytest.param(
            "---\nid: d\nversion: 1\nvariables: [x]\n---\n## user\n{{ x }}\n## system\nhi\n",
            "sections",
            id="sections-swapped",
        ),
        pytest.param(
            "---\nid: d\nversion: 1\nvariables: []\n---\n## system\nhi\n## user\n{{ x }}\n",
            "undeclared placeholders",
            id="undeclared",
        ),
        pytest.param(
            "---\nid: d\nversion: 1\nvariables: [x, y]\n---\n## system\nhi\n## user\n{{ x }}\n",
            "declared but unused",
            id="unused",
        ),
        pytest.param(
            "---\nid: d\nvariables: [x]\n---\n## system\nhi\n## user\n{{ x }}\n",
            "version",
            id="no-version",
        ),
        pytest.param(
            "---\nid: d\nversion: 1\nvars: [x]\n---\n## system\nhi\n## user\n{{ x }}\n",
            "vars",
            id="unknown-key",
        ),
        pytest.param(
            "---\nid: [unclosed\n---\n## system\nhi\n## user\nyo\n", "YAML", id="bad-yaml"
        ),
        pytest.param(
            "---\nid: d\nversion: 1\n---\nstray intro\n## system\nhi\n## user\nyo\n",
            "before",
            id="text-before-system",
        ),
    ],
)
def test_malformed_prompt_files_fail_loudly(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, text)
    with pytest.raises(PromptError, match=message):
        load_prompt("demo", tmp_path)


def test_missing_file_and_bad_names_fail(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="cannot read"):
        load_prompt("absent", tmp_path)
    with pytest.raises(PromptError, match="invalid prompt name"):
        load_prompt("../settings", tmp_path)
