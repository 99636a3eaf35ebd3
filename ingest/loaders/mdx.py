"""Turn MDX (and VuePress/Docusaurus-flavoured Markdown) into plain Markdown.

Fenced code is never touched apart from removing the indentation of the fence
itself (what a Markdown renderer removes too), so code inside `<Tab>` or `<Step>`
comes out as an ordinary top-level code block.  Everything between fences is
prose: script residue goes, tags are stripped by `mdx_tags`, admonition fences
become bold titles and the layout indentation of components is removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.loaders.mdx_tags import TagState, strip_tags

_FENCE_OPEN = re.compile(r"^([ \t]*)(`{3,}(?=[^`]*$)|~{3,})")
_ADMONITION = re.compile(
    r"^:{3,}\s*(?:[A-Za-z][\w-]*)?\s*(?:\[(?P<bracketed>[^\]]*)\])?\s*"
    r"(?P<title>[^\s{}<:].*?)?\s*:*$"
)
_LIST_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d{1,9}[.)])(?:\s|$)")
_BLANK_RUNS = re.compile(r"\n{3,}")

# Statements of JavaScript that MDX pages carry (imports, exported components) and the
# bodies such components leave behind when an export line was removed upstream.
_SCRIPT_START = re.compile(
    r"""^(?:
        import\s+(?:.+\s+from\s+['"]|['"]|\{[^}]*$)
      | export\s+(?:const|let|var|function|default|class|async|\{)
      | (?:const|let|var)\s+(?:\[[^\]]*\]|\{[^}]*\}|[\w$]+)\s*=
      | function\s+[\w$]+\s*\(
      | return\s*\(\s*(?:<.*)?$
      | (?:if|for|while|switch)\s*\(.*[{;]$
      | React\.\w+\(
      | [\])}]+[;,)]*$
      | [\[{(]$
    )""",
    re.VERBOSE,
)


@dataclass
class _Segment:
    code: bool
    lines: list[str]


def clean_mdx(text: str) -> str:
    """Markdown with components, imports and script removed; code blocks kept."""
    tags = TagState()
    list_base: list[int | None] = [None]
    parts: list[str] = []
    for segment in _split_fences(text.split("\n")):
        if segment.code:
            parts.append("\n".join(_dedent_fence(segment.lines)))
            continue
        prose = "\n".join(_drop_script(segment.lines))
        prose = strip_tags(prose, tags)
        prose = _BLANK_RUNS.sub("\n\n", _tidy(prose, list_base))
        if prose.strip():
            parts.append(prose.strip("\n"))
    return "\n\n".join(parts) + "\n" if parts else ""


def _split_fences(lines: list[str]) -> list[_Segment]:
    segments: list[_Segment] = []
    prose: list[str] = []
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i])
        if m is None:
            prose.append(lines[i])
            i += 1
            continue
        fence = m.group(2)
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = i + 1
        while end < len(lines) and not close.match(lines[end]):
            end += 1
        if prose:
            segments.append(_Segment(code=False, lines=prose))
            prose = []
        # An unclosed fence runs to the end of the document, as in CommonMark.
        segments.append(_Segment(code=True, lines=lines[i : end + 1]))
        i = end + 1
    if prose:
        segments.append(_Segment(code=False, lines=prose))
    return segments


def _dedent_fence(lines: list[str]) -> list[str]:
    indent = len(lines[0]) - len(lines[0].lstrip(" \t"))
    if not indent:
        return lines
    out = []
    for line in lines:
        leading = len(line) - len(line.lstrip(" \t"))
        out.append(line[min(indent, leading) :])
    return out


def _drop_script(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        if _SCRIPT_START.match(lines[i].strip()):
            end = _script_end(lines, i)
            if end is not None:
                i = end
                continue
        out.append(lines[i])
        i += 1
    return out


def _script_end(lines: list[str], start: int) -> int | None:
    """Index just past the statement starting at `start`, once its brackets balance."""
    depth, in_template = 0, False
    for k in range(start, len(lines)):
        delta, in_template = _bracket_delta(lines[k], in_template)
        depth += delta
        if depth <= 0 and not in_template:
            return k + 1
    return None  # never balances here: not script after all, keep the lines


def _bracket_delta(line: str, in_template: bool) -> tuple[int, bool]:
    depth, quote, i = 0, "", 0
    while i < len(line):
        c = line[i]
        if in_template or quote:
            if c == "\\":
                i += 2
                continue
            if in_template and c == "`":
                in_template = False
            elif c == quote:
                quote = ""
        elif line.startswith("//", i):
            break
        elif c == "`":
            in_template = True
        elif c in "'\"":
            # An apostrophe in JSX text ("customer's") is not a string delimiter.
            apostrophe = 0 < i < len(line) - 1 and line[i - 1].isalnum() and line[i + 1].isalpha()
            if not apostrophe and line.find(c, i + 1) > 0:
                quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        i += 1
    return depth, in_template


def _tidy(text: str, list_base: list[int | None]) -> str:
    """Drop admonition fences and `[[toc]]`; undo indentation that came from components."""
    out: list[str] = []
    for raw in text.split("\n"):
        line = raw.expandtabs(4).rstrip()
        stripped = line.strip()
        if not stripped:
            out.append("")
            continue
        if stripped.lower() == "[[toc]]":
            continue
        admonition = _ADMONITION.match(stripped)
        if admonition:
            title = admonition.group("bracketed") or admonition.group("title")
            if title and title.strip():
                out.extend(["", f"**{title.strip()}**", ""])
            continue
        indent = len(line) - len(line.lstrip())
        if _LIST_ITEM.match(line):
            base = list_base[0]
            if base is None or indent < base:
                base = list_base[0] = indent
            out.append(" " * (indent - base) + stripped)
            continue
        if list_base[0] is not None and (indent <= list_base[0] or stripped.startswith("#")):
            list_base[0] = None
        out.append(stripped)
    return "\n".join(out)
