"""A documentation passage cut into the blocks an answer is made of.

The offline drafter answers with whole blocks, never with loose sentences: a numbered
list of steps, a fenced code example, the rows of a table that hold what was asked, a
paragraph.  Every block keeps its exact text from the chunk, so a citation's quote is a
real slice of the passage it names.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from app.triage.draft.markup_patterns import UPPER_SNAKE

BlockKind = Literal["heading", "paragraph", "list", "code", "table", "note"]

_FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+#.-]*)")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+")
_ORDERED_ITEM = re.compile(r"^\s*\d+[.)]\s+")
_TABLE_LINE = re.compile(r"^\s*\|")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_NOTE = re.compile(r"^\s*>")


@dataclass
class Block:
    kind: BlockKind
    text: str  # exact text as it appears in the passage
    language: str = ""  # a code block's fence language
    ordered: bool = False  # a list whose items are numbered (steps)
    rows: list[str] = field(default_factory=list)  # a table's body rows
    header: str = ""  # a table's header line and rule

    @property
    def words(self) -> int:
        return len(self.text.split())


def _code_block(lines: list[str], i: int) -> tuple[Block, int]:
    opening = _FENCE.match(lines[i])
    language = opening.group(2).lower() if opening else ""
    body = [lines[i]]
    i += 1
    while i < len(lines):
        body.append(lines[i])
        i += 1
        if _FENCE.match(body[-1]):
            break
    return Block("code", "\n".join(body), language=language), i


def _table_block(lines: list[str], i: int) -> tuple[Block, int]:
    start = i
    while i < len(lines) and _TABLE_LINE.match(lines[i]):
        i += 1
    table = lines[start:i]
    if len(table) >= 2 and _TABLE_RULE.match(table[1]):
        header, rows = "\n".join(table[:2]), table[2:]
    else:
        header, rows = "", table
    return Block("table", "\n".join(table), rows=rows, header=header), i


def _list_block(lines: list[str], i: int) -> tuple[Block, int]:
    start = i
    ordered = bool(_ORDERED_ITEM.match(lines[i]))
    i += 1
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            # A blank line ends the list unless the next line continues it.
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if _LIST_ITEM.match(nxt) or (nxt.startswith((" ", "\t")) and nxt.strip()):
                i += 1
                continue
            break
        if _FENCE.match(line) and not line.startswith((" ", "\t")):
            break
        if _HEADING.match(line) or (_TABLE_LINE.match(line) and not line.startswith(" ")):
            break
        # A line that is neither an item nor indented continues the previous item's
        # text only when it follows it directly.
        item_or_indented = _LIST_ITEM.match(line) or line.startswith((" ", "\t"))
        if not item_or_indented and not lines[i - 1].strip():
            break
        i += 1
    text = "\n".join(lines[start:i]).rstrip()
    return Block("list", text, ordered=ordered), i


def _paragraph(lines: list[str], i: int) -> tuple[Block, int]:
    start = i
    note = bool(_NOTE.match(lines[i]))
    i += 1
    while i < len(lines):
        line = lines[i]
        if (
            not line.strip()
            or _FENCE.match(line)
            or _HEADING.match(line)
            or _LIST_ITEM.match(line)
            or _TABLE_LINE.match(line)
        ):
            break
        i += 1
    return Block("note" if note else "paragraph", "\n".join(lines[start:i]).strip()), i


def parse_blocks(text: str) -> Iterator[Block]:
    """Headings, paragraphs, lists, fenced code, tables and notes, in document order."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if _FENCE.match(line):
            block, i = _code_block(lines, i)
        elif heading := _HEADING.match(line):
            block, i = Block("heading", heading.group(2).strip()), i + 1
        elif _TABLE_LINE.match(line):
            block, i = _table_block(lines, i)
        elif _LIST_ITEM.match(line):
            block, i = _list_block(lines, i)
        else:
            block, i = _paragraph(lines, i)
        yield block


def code_lines(block: Block) -> int:
    return max(block.text.count("\n") - 1, 0)


def list_items(block: Block) -> list[str]:
    """A list's top-level items, each with its nested lines, as exact slices."""
    lines = block.text.splitlines()
    if not lines:
        return []
    base = len(lines[0]) - len(lines[0].lstrip())
    items: list[list[str]] = []
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if (_LIST_ITEM.match(line) and indent == base) or not items:
            items.append([line])
        else:
            items[-1].append(line)
    return ["\n".join(item).rstrip() for item in items]


# An item that opens with its key: "- **403**: Forbidden…", "- `QUOTE_EXPIRED` – …".
_ITEM_KEY = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\*\*|`)([^*`\s][^*`]{0,60}?)(?:\*\*|`)")


def item_key(item: str) -> str | None:
    """The key a list item opens with (a status, an error code, a field), if it has one."""
    match = _ITEM_KEY.match(item)
    return match.group(1).strip() if match else None


_FIELD_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+`[\w.\[\]-]+`\s*\(")
_SCHEMA_LINE = re.compile(
    r"`[\w.\[\]-]+`\s*\((?:string|integer|number|boolean|object|array|oneOf)|\*\*Variant \d+"
)


def is_field_list(block: Block) -> bool:
    """A schema's field-by-field list ("- `amount` (integer, required): ..."), as generated
    API-reference pages have: it names fields but rarely says how or why."""
    if block.kind not in ("list", "paragraph"):
        return False
    if len(_SCHEMA_LINE.findall(block.text)) >= 2:
        return True
    items = list_items(block) if block.kind == "list" else []
    fields = sum(1 for item in items if _FIELD_ITEM.match(item))
    return bool(items) and fields / len(items) >= 0.5


_FIELD_START = re.compile(r"(?:^|(?<=\s))-\s+`([\w.\[\]-]+)`\s*\(")


def schema_fields(block: Block) -> list[tuple[str, str]]:
    """(field name, its exact "- `name` (type): description" text) in a schema dump,
    which generated pages sometimes run together on one line."""
    starts = list(_FIELD_START.finditer(block.text))
    fields = []
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(block.text)
        text = block.text[match.start() : end].strip().split("\n")[0]
        text = text.split(" - **Variant")[0].strip()  # the next variant's label, run on
        fields.append((match.group(1), text))
    return fields


_DISCRIMINATOR = re.compile(r"Allowed values: `([A-Z][A-Z0-9_]+)`\.?(?:\s|$)")
_VARIANT_LABEL = re.compile(r"\*\*Variant \d+")


def other_variant_spans(text: str, identifiers: tuple[str, ...]) -> list[tuple[int, int]]:
    """The character spans of a schema dump's variants (`**Variant 3: GbpAccountInfo**`)
    that are not the one the developer asked about.  A variant is known by the single
    value its type field allows (`GBP_ACCOUNT`); when the developer named one value, the
    fields of a sibling variant (a Ghana account's in a UK question) read as a wrong
    answer.  Where a named variant is in the text, everything after another variant's
    label is excluded; otherwise only the variants that allow a different value."""
    bounds = [0, *(m.start() for m in _VARIANT_LABEL.finditer(text)), len(text)]
    segments = [
        (start, end, set(_DISCRIMINATOR.findall(text[start:end])))
        for start, end in itertools.pairwise(bounds)
    ]
    asked = set(identifiers)
    if any(values & asked for _, _, values in segments):
        return [(start, end) for start, end, values in segments if not values & asked]
    suffixes = {v.rsplit("_", 1)[-1] for _, _, values in segments for v in values}
    if not any(UPPER_SNAKE.fullmatch(i) and i.rsplit("_", 1)[-1] in suffixes for i in asked):
        return []
    return [(start, end) for start, end, values in segments if values]
