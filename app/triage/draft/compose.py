"""The reply's text and citations, with one numbering everywhere.

A marker `[n]` names a source (a documentation section), and the n-th citation is that
source: the console, `/help` and Slack can all show `citations[n-1]` for `[n]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.triage.draft.phrases import phrase, variants
from app.triage.results import Citation

if TYPE_CHECKING:
    from app.triage.draft.candidates import Candidate
    from app.triage.draft.protocol import DraftRequest
    from app.triage.draft.question import Question

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*\"(\[])")
_FENCE_LINE = re.compile(r"^\s*(```+|~~~+)")
_REQUEST_ID = re.compile(r"\b(?:request[-_ ]?id|x-request-id|req_[A-Za-z0-9]+)\b", re.IGNORECASE)
# A pasted error response: a JSON "code"/"message"/"error" member.
_ERROR_BODY = re.compile(r"[\"']?(?:code|message|error)[\"']?\s*:\s*[\"'{]", re.IGNORECASE)
# Lines that stand on their own when prose is reflowed: list items, table rows, headings
# and a bold label alone on its line ("**Required documents**").
_OWN_LINE = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|\||#{1,6}\s|\*\*[^*\n]+\*\*:?\s*$)")
_NOTE_MARK = re.compile(r"^\s*>\s?")
_MIN_QUOTE = 20
_MAX_QUOTE = 240


@dataclass
class Chosen:
    candidate: Candidate
    rows: list[str] = field(default_factory=list)  # a table's matching rows only
    items: list[str] = field(default_factory=list)  # a long list's matching items only
    lead: str = ""  # a line of the same page shown first (a parameter list's endpoint)

    @property
    def words(self) -> int:
        return len(self.rendered().split())

    @property
    def kind(self) -> str:
        return self.candidate.block.kind

    def rendered(self) -> str:
        body = self._body()
        return f"{self.lead}\n{body}" if self.lead else body

    def _body(self) -> str:
        block = self.candidate.block
        if block.kind == "table" and self.rows:
            head = f"{block.header}\n" if block.header else ""
            return head + "\n".join(self.rows)
        if block.kind in ("list", "paragraph") and self.items:
            return reflow("\n".join(self.items))
        if block.kind in ("list", "paragraph", "note"):
            return reflow(block.text)
        return block.text

    def quote(self) -> str:
        """An exact slice of the chunk text that this block stands on."""
        return _inside(self._first_words(), self.candidate.chunk_text)

    def _first_words(self) -> str:
        block = self.candidate.block
        if block.kind == "code":
            lines = [ln.strip() for ln in block.text.splitlines() if not _FENCE_LINE.match(ln)]
            line = next((ln for ln in lines if len(ln) >= _MIN_QUOTE), lines[0] if lines else "")
            return line[:_MAX_QUOTE]
        if block.kind == "table":
            rows = self.rows or block.rows
            row = rows[0] if rows else block.text.splitlines()[0]
            # The row's cells without the outer pipes: still an exact slice of the table.
            return row.strip().strip("|").strip()[:_MAX_QUOTE]
        source = self.items[0] if self.items else block.text
        first_line = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
        sentence = _SENTENCE_END.split(first_line, maxsplit=1)[0]
        return (sentence if len(sentence) >= _MIN_QUOTE else first_line)[:_MAX_QUOTE]


def reflow(text: str) -> str:
    """Prose as one line per paragraph or list item.

    Doc sources hard-wrap paragraphs at ~90 columns; Slack and plain-text email show those
    breaks as they are, so a quoted sentence reads as cut off mid-way ("…other currencies
    return" / "`NOT_IMPLEMENTED`.").  A line that starts a list item, a fenced block or a
    table stays on its own line; the quote a citation carries is taken from the block's
    exact text, not from this."""
    lines: list[str] = []
    in_fence = False
    for line in text.splitlines():
        fence = bool(_FENCE_LINE.match(line))
        starts_own_line = fence or in_fence or not line.strip() or _OWN_LINE.match(line) is not None
        if fence:
            in_fence = not in_fence
        previous = lines[-1] if lines else ""
        joinable = previous.strip() and not _FENCE_LINE.match(previous) and not in_fence
        if starts_own_line or not joinable:
            lines.append(line)
        else:
            lines[-1] = f"{previous.rstrip()} {_NOTE_MARK.sub('', line).strip()}"
    return "\n".join(lines)


def _inside(quote: str, chunk_text: str) -> str:
    """The quote, or as much of its start as the chunk holds: a block that begins near the
    end of one chunk and goes on in the next is cited from the chunk where it begins."""
    if not chunk_text or quote in chunk_text:
        return quote
    for size in range(len(quote) - 1, _MIN_QUOTE - 1, -1):
        if quote[:size] in chunk_text:
            return quote[:size].rstrip()
    return quote


def _label(request: DraftRequest, rank: int) -> str:
    hit = request.hits[rank]
    heading = hit.heading.split(" > ")[-1] if hit.heading else ""
    if heading and heading != hit.title:
        return f"{hit.title} › {heading}"
    return hit.title or hit.source


def _own_heading(request: DraftRequest, rank: int) -> str:
    """The heading the source's label ends with: a block under it needs no subheading."""
    return _label(request, rank).rsplit(" › ", 1)[-1]


def _closing(request: DraftRequest, question: Question) -> str:
    """Ask only for what the message does not already hold."""
    if question.shape != "error" or request.signals.request_ids:
        return phrase("closing", request.language)
    if _REQUEST_ID.search(request.question):
        return phrase("closing", request.language)
    if request.signals.error_codes or _ERROR_BODY.search(request.question):
        return phrase("closing_request_id", request.language)
    return phrase("closing_error", request.language)


def compose(
    chosen: list[Chosen], request: DraftRequest, question: Question
) -> tuple[str, list[Citation]]:
    language = request.language
    numbers: dict[int, int] = {}
    citations: list[Citation] = []

    def marker(item: Chosen) -> str:
        source = item.candidate.source
        if source not in numbers:
            numbers[source] = len(numbers) + 1
            hit = request.hits[source]
            citations.append(
                Citation(
                    chunk_id=item.candidate.chunk_id,
                    doc_id=hit.doc_id,
                    source=hit.source,
                    url=hit.url,
                    quote=item.quote(),
                    marker=numbers[source],
                )
            )
        return f"[{numbers[source]}]"

    lines = [phrase("intro", language), ""]
    prose = [c for c in chosen if c.kind != "code"]
    code = [c for c in chosen if c.kind == "code"]
    current_source: int | None = None
    current_sub = ""
    shown_subs: set[str] = set()
    for item in prose:
        source = item.candidate.source
        if source != current_source:
            if current_source is not None:
                lines.append("")
            lines.append(f"**{_label(request, source)}** {marker(item)}")
            current_source = source
            current_sub = _own_heading(request, source)
        sub = item.candidate.subheading
        if sub and sub != current_sub:
            # Steps under "Successful payout" and under "Returned payout" mean different things.
            lines.append(f"*{sub}*")
            current_sub = sub
        shown_subs.add(current_sub)
        lines += [item.rendered(), ""]
    for item in code:
        language_label = item.candidate.block.language or ""
        head = phrase("code", language)
        if language_label:
            head = f"{head[:-1]} ({language_label}):" if head.endswith(":") else head
        lines.append(f"{head} {marker(item)}")
        sub = item.candidate.subheading
        if sub and sub not in shown_subs | {_own_heading(request, item.candidate.source)}:
            lines.append(f"*{sub}*")  # what the example does ("Simulate the deposit")
        lines += [item.rendered(), ""]
    lines.append(phrase("sources", language))
    for source, number in sorted(numbers.items(), key=lambda kv: kv[1]):
        hit = request.hits[source]
        lines.append(f"[{number}] {_label(request, source)}: {hit.url or hit.source}")
    lines += ["", _closing(request, question)]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text), citations


def without_sources(text: str) -> str:
    """The reply for a page that lists the citations itself and has no reply box: without
    its "Sources:" list and without the closing invitation to reply."""
    headings = variants("sources")
    closings = variants("closing", "closing_error", "closing_request_id")
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        if line.strip() in headings:
            skipping = True
            continue
        if skipping and not line.strip():
            skipping = False
            continue
        if not skipping and line.strip() not in closings:
            kept.append(line)
    return "\n".join(kept).strip()
