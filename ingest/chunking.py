"""Heading-aware, token-bounded chunking of normalised Markdown.

Sections follow the heading tree (the heading path is kept for metadata and the
deep link), chunks are bounded in tiktoken tokens, fenced code is kept whole
unless it alone exceeds the budget, consecutive chunks of one section overlap a
little, and sections too small to stand alone are merged into a neighbour.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

import tiktoken

from ingest.types import Chunk

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```+|~~~+)")
# Bumped whenever the same document would be cut into different chunk texts: a stored
# document chunked by another version is re-chunked on the next sync even though its
# file has not changed (unchanged chunk texts keep their embeddings, by text hash).
CHUNKER_VERSION = 3

_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+(?=[A-Z0-9`\"'(\[*_-])")
# A full stop that ends an abbreviation, not a sentence: "(e.g. ACH pull …)" cut there
# left a field's description ending mid-parenthesis in a chunk of its own.
_ABBREVIATION = re.compile(r"(?:^|[\s(\[])(?:e\.g|i\.e|vs|cf|approx|incl|esp)\.$", re.I)


@cache
def encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


def slugify(heading: str) -> str:
    """GitHub/Mintlify-style anchor: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|__|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return re.sub(r"\s+", "-", text).strip("-")


@dataclass
class _Block:
    text: str
    tokens: int
    is_code: bool
    # How this block joins the one before it: a blank line between blocks; a space or a
    # line break between the pieces of one oversized block split for the budget.
    joiner: str = "\n\n"


@dataclass
class _Section:
    path: tuple[str, ...]
    anchor: str | None
    heading_line: str | None
    blocks: list[_Block] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return sum(b.tokens for b in self.blocks)


@dataclass
class _Piece:
    path: tuple[str, ...]
    anchor: str | None
    parts: list[str]
    tokens: int
    alone: bool  # the whole of its section


def _sections(text: str) -> list[_Section]:
    sections = [_Section(path=(), anchor=None, heading_line=None)]
    stack: list[tuple[int, str]] = []
    para: list[str] = []
    code: list[str] | None = None
    fence = ""

    def flush_para() -> None:
        if para and "".join(para).strip():
            body = "\n".join(para).strip("\n")
            sections[-1].blocks.append(_Block(body, count_tokens(body), is_code=False))
        para.clear()

    for line in text.splitlines():
        if code is not None:
            code.append(line)
            if line.strip().startswith(fence) and len(code) > 1:
                body = "\n".join(code)
                sections[-1].blocks.append(_Block(body, count_tokens(body), is_code=True))
                code = None
            continue
        fence_match = _FENCE.match(line)
        if fence_match:
            flush_para()
            fence = fence_match.group(1)
            code = [line]
            continue
        heading = _HEADING.match(line)
        if heading:
            flush_para()
            level, title = len(heading.group(1)), heading.group(2).strip()
            stack = [(lvl, t) for lvl, t in stack if lvl < level] + [(level, title)]
            sections.append(
                _Section(
                    path=tuple(t for _, t in stack),
                    anchor=slugify(title) or None,
                    heading_line=line.strip(),
                )
            )
            continue
        if line.strip():
            para.append(line)
        else:
            flush_para()
    if code is not None:  # unterminated fence: keep what is there rather than lose it
        body = "\n".join(code)
        sections[-1].blocks.append(_Block(body, count_tokens(body), is_code=True))
    flush_para()
    return [s for s in sections if s.blocks or s.heading_line]


def _split_oversized(block: _Block, budget: int) -> Iterator[_Block]:
    """Split one block that alone exceeds the budget: code by lines, prose by sentences.

    Prose pieces remember how they joined in the source (a space, a line break, or
    nothing inside a sentence cut by tokens), so a chunk holding two of them shows the
    text as it was and a reader joining chunks again can restore it.
    """
    previous_end = ""
    for piece, end in _pieces(block, budget):
        if not block.is_code and previous_end:
            piece.joiner = "" if previous_end == "cut" else previous_end
        previous_end = end
        yield piece


def _pieces(block: _Block, budget: int) -> Iterator[tuple[_Block, str]]:
    if block.is_code:
        lines = block.text.splitlines()
        opener, body = lines[0], lines[1:]
        closer = body.pop() if body and _FENCE.match(body[-1]) else opener.strip()[:3]
        units = body
        wrap: tuple[str, str] | None = (opener, closer)
    else:
        units = _sentences_with_breaks(block.text)
        wrap = None
    current: list[str] = []
    current_tokens = 0
    overhead = count_tokens("\n".join(wrap)) + 2 if wrap else 0
    for unit in units:
        unit_tokens = count_tokens(unit) + 1
        if unit_tokens + overhead > budget:  # a single giant line or sentence: cut by tokens
            if current:
                yield _emit(current, wrap, block.is_code), _end(current)
                current, current_tokens = [], 0
            tokens = encoding().encode(unit, disallowed_special=())
            step = max(budget - overhead, 1)
            for i in range(0, len(tokens), step):
                last = i + step >= len(tokens)
                piece = _emit([encoding().decode(tokens[i : i + step])], wrap, block.is_code)
                yield piece, (_end([unit]) if last else "cut")
            continue
        if current and current_tokens + unit_tokens + overhead > budget:
            yield _emit(current, wrap, block.is_code), _end(current)
            current, current_tokens = [], 0
        current.append(unit)
        current_tokens += unit_tokens
    if current:
        yield _emit(current, wrap, block.is_code), _end(current)


def _end(units: list[str]) -> str:
    return "\n" if units[-1].endswith("\n") else " "


def _sentences_with_breaks(text: str) -> list[str]:
    """Sentences, each keeping the line break that followed it in the source.

    A long field list or a list of steps is split between sentences; re-joining the
    sentences with spaces would fold every item onto one line, and a reader (or the
    drafter) could no longer tell where one field or step ends.
    """
    units: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if not _sentence_ends_at(text, match.start()):
            continue
        sentence = text[start : match.start()]
        if sentence.strip():
            units.append(sentence + ("\n" if "\n" in match.group() else ""))
        start = match.end()
    if text[start:].strip():
        units.append(text[start:])
    return units


def _sentence_ends_at(text: str, end: int) -> bool:
    """Whether the punctuation just before `end` ends a sentence: not an abbreviation's full
    stop, nor a colon inside inline code ("`customerType: INDIVIDUAL`")."""
    line = text[text.rfind("\n", 0, end) + 1 : end]
    if line.count("`") % 2:
        return False
    return not _ABBREVIATION.search(line[-12:])


def _emit(units: list[str], wrap: tuple[str, str] | None, is_code: bool) -> _Block:
    if wrap:
        text = "\n".join([wrap[0], *units, wrap[1]])
    else:
        text = "".join(u if u.endswith("\n") else u + " " for u in units).strip()
    return _Block(text, count_tokens(text), is_code)


def _overlap_tail(parts: list[str], overlap: int) -> str:
    """Last sentences of the previous chunk's prose, up to `overlap` tokens."""
    if overlap <= 0:
        return ""
    for part in reversed(parts):
        if _FENCE.match(part):
            continue
        tail: list[str] = []
        used = 0
        for sentence in reversed(_sentences_with_breaks(part)):
            cost = count_tokens(sentence)
            if used + cost > overlap:
                break
            tail.insert(0, sentence)
            used += cost
        # Joined as the source had them, so the tail is exactly the previous chunk's end.
        return "".join(u if u.endswith("\n") else u + " " for u in tail).strip()
    return ""


def _pack(section: _Section, budget: int, overlap: int) -> list[_Piece]:
    blocks: list[_Block] = []
    for block in section.blocks:
        # Pieces of a split block leave room for the overlap carried into the next chunk.
        piece_budget = max(budget - overlap, budget // 2)
        blocks.extend(_split_oversized(block, piece_budget) if block.tokens > budget else [block])
    pieces: list[_Piece] = []
    parts: list[str] = []
    used = 0
    for block in blocks:
        # +1 per block: the blank line that joins blocks costs a token of its own.
        if parts and used + block.tokens + 1 > budget:
            pieces.append(_Piece(section.path, section.anchor, parts, used, alone=False))
            tail = _overlap_tail(parts, overlap)
            parts = [tail] if tail and count_tokens(tail) + block.tokens <= budget else []
            used = count_tokens(tail) if parts else 0
        if parts and block.joiner != "\n\n":
            parts[-1] += block.joiner + block.text  # the next piece of one split block
        else:
            parts.append(block.text)
        used += block.tokens + 1
    if parts:
        pieces.append(_Piece(section.path, section.anchor, parts, used, alone=False))
    if len(pieces) == 1:
        pieces[0].alone = True
    return pieces


def _merge_tiny(pieces: list[_Piece], budget: int, minimum: int) -> list[_Piece]:
    """Fold whole-but-tiny sections into the following chunk (else the previous one)."""
    merged: list[_Piece] = []
    pending: _Piece | None = None
    for original in pieces:
        piece = original
        if pending is not None:
            if pending.tokens + piece.tokens + 1 <= budget:
                piece = _Piece(
                    pending.path,
                    pending.anchor,
                    [*pending.parts, *piece.parts],
                    pending.tokens + piece.tokens + 1,
                    alone=piece.alone,
                )
            else:
                merged.append(pending)
            pending = None
        if piece.alone and piece.tokens < minimum:
            pending = piece
            continue
        merged.append(piece)
    if pending is not None:
        if merged and merged[-1].tokens + pending.tokens + 1 <= budget:
            last = merged[-1]
            merged[-1] = _Piece(
                last.path,
                last.anchor,
                [*last.parts, *pending.parts],
                last.tokens + pending.tokens + 1,
                alone=False,
            )
        else:
            merged.append(pending)
    return merged


def chunk_markdown(
    doc_id: str,
    text: str,
    *,
    max_tokens: int = 200,
    overlap_tokens: int = 30,
    min_tokens: int = 40,
) -> list[Chunk]:
    pieces: list[_Piece] = []
    for section in _sections(text):
        if section.heading_line:
            # The heading travels as the first block, so a section folded into a neighbour
            # keeps its title in the text and the budget accounts for it.
            line = section.heading_line
            section.blocks.insert(0, _Block(line, count_tokens(line), is_code=False))
        pieces.extend(_pack(section, max_tokens, overlap_tokens))
    pieces = _merge_tiny(pieces, max_tokens, min_tokens)
    chunks: list[Chunk] = []
    for piece in pieces:
        parts = list(piece.parts)
        # The chunk's own heading is metadata; drop it from the body to save tokens.
        if (
            parts
            and _HEADING.match(parts[0])
            and piece.path
            and parts[0].lstrip("#").strip() == (piece.path[-1])
        ):
            parts = parts[1:]
        body = "\n\n".join(p for p in parts if p.strip()).strip()
        if not body:
            continue
        chunks.append(
            Chunk(
                doc_id=doc_id,
                index=len(chunks),
                text=body,
                heading_path=piece.path,
                anchor=piece.anchor,
                tokens=count_tokens(body),
            )
        )
    return chunks
