"""The whole documentation section a retrieved chunk belongs to.

Retrieval returns chunks of at most a few hundred tokens, so a section's numbered steps
can sit in one chunk and its code example in the next.  An answer needs the section,
so this looks up a hit's sibling chunks (same document, same heading) in chunk order.
Siblings are read per hit from the shared lexical index (one document's span of its
memory-mapped segments), never the whole collection.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ingest.corpus_view import Where
from ingest.vectorstore import StoredChunk


class ChunkSource(Protocol):
    """What the lookup needs from a retriever: the index, read one document at a time."""

    def lexical_index(self) -> _IndexLike: ...


class _IndexLike(Protocol):
    def doc_chunks(self, doc_id: str, where: Where | None = None) -> list[StoredChunk]: ...

    @property
    def revision(self) -> int: ...


@dataclass(frozen=True)
class SectionPart:
    chunk_id: str
    text: str


def _key(meta: object) -> tuple[str, str]:
    get = getattr(meta, "get", None)
    if get is None:
        return "", ""
    return str(get("doc_id", "")), str(get("heading", ""))


def _order(chunk: StoredChunk) -> int:
    value = chunk.metadata.get("chunk_index", 0)
    return int(value) if isinstance(value, int | float | str) and str(value).isdigit() else 0


def _strip_overlap(previous: str, text: str, longest: int = 600) -> str:
    """Consecutive chunks of one section repeat the previous chunk's last sentences."""
    window = previous[-longest:]
    for size in range(min(len(window), len(text)), 20, -1):
        if text.startswith(window[-size:]):
            return text[size:].lstrip()
    return text


def window_opening(previous: StoredChunk, text: str) -> tuple[SectionPart | None, str]:
    """How a section window whose first chunk is `text` opens, given the chunk before it.

    A window that opens mid-line would start with that line's tail, a fragment with no
    subject.  A line of ordinary length gets its head back from the chunk before (as a part
    of its own, so every quote stays inside one chunk's text); a giant one (a field with a
    long enum list) is skipped, and the window starts at the next whole line.
    """
    stripped = _strip_overlap(previous.text, text)
    head = previous.text.rsplit("\n", 1)[-1].strip()
    if _joiner(previous.text, text) != " ":
        # A chunk opens with the previous one's last sentence (the overlap); when the
        # sentence splitter cut that sentence inside inline code ("customerType: |
        # INDIVIDUAL`) determine ..."), the repeated part is a fragment: the line it
        # belongs to, whole, takes its place.
        if stripped == text or not _fragment(text.split("\n", 1)[0]):
            return None, text
        starts_line = "\n" in previous.text or head[:1].isupper() or head[:1] in "*`_[#|-"
        whole = bool(head) and starts_line and len(head) <= _WHOLE_LINE
        return (SectionPart(previous.chunk_id, head) if whole else None), stripped
    tail = stripped.split("\n", 1)[0]
    if "\n" in previous.text and head and len(head) + len(tail) <= _WHOLE_LINE:
        return SectionPart(previous.chunk_id, head), stripped
    return None, stripped.split("\n", 1)[1].lstrip("\n") if "\n" in stripped else ""


class SectionLookup:
    """A hit's section, read from the index on demand; thread-safe.

    Sections read recently are kept (a bounded LRU keyed by the index's revision and
    generation, the document and the heading), so the hot path reads no index pages;
    an edited page's new section is read after the sync that changed the revision.
    """

    MAX_SECTIONS = 4096

    def __init__(self, source: ChunkSource, max_sections: int = MAX_SECTIONS) -> None:
        self._source = source
        self._max = max_sections
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[int, str, str, str], list[StoredChunk]] = OrderedDict()
        # A section's first chunk's predecessor in the document, by the same key; evicted
        # together with the section.
        self._openers: dict[tuple[int, str, str, str], StoredChunk | None] = {}

    def section(self, doc_id: str, heading: str) -> list[StoredChunk]:
        """The chunks of one section (same document, same heading) in chunk order."""
        index = self._source.lexical_index()
        key = (index.revision, str(getattr(index, "generation", "")), doc_id, heading)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        # A chunk without a heading is in the "" section, so only a named one is asked for.
        where = {"heading": heading} if heading else None
        chunks = [
            c for c in index.doc_chunks(doc_id, where) if _key(c.metadata) == (doc_id, heading)
        ]
        chunks.sort(key=_order)  # stable: equal indexes keep the index's order
        with self._lock:
            if self._cache and next(reversed(self._cache))[:2] != key[:2]:
                self._cache.clear()  # a new revision: nothing kept can be asked for again
                self._openers.clear()
            self._cache[key] = chunks
            while len(self._cache) > self._max:
                evicted, _ = self._cache.popitem(last=False)
                self._openers.pop(evicted, None)
        return chunks

    def parts(
        self, chunk_id: str, doc_id: str, heading: str, *, max_parts: int = 4
    ) -> list[SectionPart]:
        """The section's chunks around `chunk_id`, at most `max_parts`, overlaps removed."""
        chunks: Sequence[StoredChunk] = self.section(doc_id, heading)
        position = next((i for i, c in enumerate(chunks) if c.chunk_id == chunk_id), None)
        if position is None:
            return []
        start = max(0, min(position - 1, len(chunks) - max_parts))
        window = chunks[start : start + max_parts]
        parts: list[SectionPart] = []
        previous = self._before(chunks, start)
        for offset, chunk in enumerate(window):
            text = chunk.text
            if offset and previous is not None:
                text = _strip_overlap(previous.text, text)
            if not parts and previous is not None:
                head, text = window_opening(previous, text)
                parts += [head] if head is not None else []
            if text:
                parts.append(SectionPart(chunk.chunk_id, text))
            previous = chunk
        return parts

    def _before(self, chunks: Sequence[StoredChunk], start: int) -> StoredChunk | None:
        """The chunk just before `chunks[start]` in its document, if it is known."""
        first = chunks[start]
        if start > 0:
            earlier = chunks[start - 1]
            return earlier if _order(earlier) == _order(first) - 1 else None
        # A section's first chunk can follow a chunk filed under the previous heading (small
        # sections are merged), which may have begun its first line.  Read once per
        # section and revision, like the section itself.
        if _order(first) == 0:
            return None
        doc_id, heading = _key(first.metadata)
        index = self._source.lexical_index()
        key = (index.revision, str(getattr(index, "generation", "")), doc_id, heading)
        with self._lock:
            if key in self._openers:
                return self._openers[key]
        found = index.doc_chunks(doc_id, {"chunk_index": _order(first) - 1})
        before = found[0] if found else None
        with self._lock:
            self._openers[key] = before  # kept and dropped with the section's own entry
        return before


# A line this long is put back together when a window opens inside it; longer ones are a
# field's enum dump or a table-sized paragraph whose head would swamp the answer.
_WHOLE_LINE = 600


def _fragment(line: str) -> bool:
    """A line that opens inside inline code or inside a parenthesis."""
    close = line.find(")")
    return line.count("`") % 2 == 1 or (close >= 0 and "(" not in line[:close])


_BLOCK_START = re.compile(r"^(?:#{1,6}\s|```|~~~|>|\|)")
# The chunker cuts inside a line only after one of these (chunking._SENTENCE_END).
_CUT_AFTER = (".", "!", "?", ":", ";")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
_TERMINAL = (".", "!", "?", ":", ";", "`", ")", '"', "*", "|")
_SENTENCE_START = re.compile(r"[A-Z][a-z]+\b")


def _joiner(before: str, after: str) -> str:
    """How two consecutive chunks of a section met in the source document.

    The chunker cuts between blocks (a blank line), between the lines of a list or a
    table (a line break) or inside a long line between sentences (a space). Joined back
    the same way, a field list or numbered steps cut in two parse as one block again.
    """
    last_line = before.rsplit("\n", 1)[-1]
    if _ITEM.match(after):
        return "\n" if _ITEM.match(last_line) or last_line.startswith((" ", "\t")) else "\n\n"
    if after.startswith("|") and last_line.lstrip().startswith("|"):
        return "\n"
    if _BLOCK_START.match(after):
        return "\n\n"
    # A long line is cut only after a sentence's end, so a list item ending without one
    # was cut at the end of its list: a capitalised start is the next paragraph.
    # (A sentence too long for a chunk is cut by tokens, mid-word or mid-enum, not before a
    # capitalised word followed by lower case.)
    if last_line.count("`") % 2 and not last_line.lstrip().startswith(("```", "~~~")):
        return " "  # cut inside inline code ("(with `customerType: | INDIVIDUAL`)")
    complete = last_line.rstrip().endswith(_TERMINAL)
    if _ITEM.match(last_line) and not complete and _SENTENCE_START.match(after):
        return "\n\n"
    if complete and not last_line.rstrip().endswith(_CUT_AFTER):
        # The chunker never cuts a line after ")" or "`": such a line ended its block, and a
        # list item ending so is followed by the next paragraph, not by its own rest.
        return "\n\n"
    if _ITEM.match(last_line) or not complete:
        return " "  # the rest of a list item or of a sentence
    return "\n\n"


def joined_parts(parts: Sequence[SectionPart]) -> tuple[str, list[tuple[int, SectionPart]]]:
    """The section's text in one piece, with the offset at which each chunk starts."""
    text = ""
    starts: list[tuple[int, SectionPart]] = []
    for part in parts:
        if text:
            text += _joiner(text, part.text)
        starts.append((len(text), part))
        text += part.text
    return text, starts


def part_at(starts: Sequence[tuple[int, SectionPart]], offset: int) -> tuple[int, SectionPart]:
    """The chunk that holds the text at `offset` of a joined section, and its start."""
    holder = starts[0]
    for start, part in starts:
        if start > offset:
            break
        holder = (start, part)
    return holder
