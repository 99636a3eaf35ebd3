"""The retrieved sections read as candidate blocks for the offline drafter.

Each hit is read as its whole section (sibling chunks joined as they met in the source,
ingest/sections.py), cut into blocks (blocks.py), headings remembered as the
sub-heading of the blocks under them, repeated blocks dropped, and a code example the
chunker split at a chunk boundary joined back into one block.  Each block keeps the text of
the chunk it starts in, because a citation's quote must come from one stored chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.triage.draft.blocks import Block, parse_blocks
from app.triage.draft.relevance import terms
from ingest.retrieval import Hit
from ingest.sections import SectionLookup, SectionPart, joined_parts, part_at


@dataclass
class Candidate:
    source: int  # index of the section (= retrieval rank)
    order: int  # position inside the section
    chunk_id: str
    block: Block
    terms: frozenset[str]
    score: float = 0.0
    subheading: str = ""  # the heading inside the section that this block sits under
    chunk_text: str = ""  # the text of the chunk the block starts in (quotes come from it)
    meaning: float = 0.0  # cosine similarity to the question (semantic.py), when measured
    lexical: float = 0.0  # the score from words and pasted identifiers alone
    quotable: bool = True  # False for another endpoint's status list (status.py)


@dataclass
class Section:
    rank: int
    hit: Hit
    candidates: list[Candidate] = field(default_factory=list)
    heading_terms: frozenset[str] = frozenset()
    score: float = 0.0
    lexical: float = 0.0  # the score from words alone: what the confidence model was fitted on


def _parts(hit: Hit, lookup: SectionLookup | None) -> list[SectionPart]:
    if lookup is not None:
        parts = lookup.parts(hit.chunk_id, hit.doc_id, hit.heading)
        if parts:
            return parts
    return [SectionPart(hit.chunk_id, hit.text)]


def read_sections(hits: Sequence[Hit], lookup: SectionLookup | None) -> list[Section]:
    sections: list[Section] = []
    for rank, hit in enumerate(hits):
        section = Section(rank, hit, heading_terms=terms(f"{hit.title} {hit.heading}"))
        text, starts = joined_parts(_parts(hit, lookup))
        seen: set[str] = set()
        order = 0
        subheading = ""
        cursor = 0
        for block in parse_blocks(text):
            at = text.find(block.text, cursor)
            at = cursor if at < 0 else at
            cursor = at + len(block.text)
            if block.kind == "heading":
                subheading = block.text
                continue
            key = " ".join(block.text.split())
            if key in seen:
                continue
            seen.add(key)
            part_start, part = part_at(starts, at)
            previous = section.candidates[-1] if section.candidates else None
            if (
                previous is not None
                and previous.chunk_id != part.chunk_id
                and at == part_start
                and _continues(previous.block, block)
            ):
                # A code example the chunker split at a chunk boundary: one block again.
                previous.block = _joined(previous.block, block)
                previous.terms = terms(previous.block.text)
                continue
            section.candidates.append(
                Candidate(
                    rank,
                    order,
                    part.chunk_id,
                    block,
                    terms(block.text),
                    subheading=subheading,
                    chunk_text=part.text,
                )
            )
            order += 1
        sections.append(section)
    return sections


def _continues(previous: Block, block: Block) -> bool:
    return previous.kind == block.kind == "code" and previous.language == block.language


def _joined(first: Block, second: Block) -> Block:
    head = first.text.splitlines()[:-1]  # without its closing fence
    tail = second.text.splitlines()[1:]  # without its opening fence
    return Block("code", "\n".join([*head, *tail]), language=first.language)
