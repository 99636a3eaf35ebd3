"""Answers to "is there a webhook for X?": the event that fires, as the webhook reference says.

Developers ask whether they can be told when something happens ("is there an event when
the funding instructions change, or do we re-fetch on a timer?").  The answer is an event
type on a webhook's API-reference page: an "Event types" item ("- `INTERNAL_ACCOUNT.
FUNDING_INSTRUCTIONS_UPDATED` — Fired when …"), or the page's own description ("Webhook
that is called when a bulk customer upload job completes or fails") with the event types
its payload allows.  Ordinary retrieval ranks the guides first (their words match the
question), so retrieval looks for webhook pages on purpose (`event_hits`), and the
drafter quotes the one event that fits best (`event_answer`).  A webhook page is told by
its text (the "Event name: `…`" line atop its first section), not by a path or a kind
that only some corpora set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from app.triage.draft.blocks import Block, list_items
from app.triage.draft.candidates import Candidate, Section
from app.triage.draft.compose import Chosen
from app.triage.draft.question import Question
from app.triage.draft.relevance import terms
from app.triage.draft.semantic import BlockSimilarity
from ingest.retrieval import Hit
from ingest.sections import SectionLookup

# Added to the question when searching for webhook pages: steers the search from guides
# that mention an object to the reference page of the event it fires.
EVENT_QUERY = "webhook event type fired when called"
EVENT_TYPES_HEADING = "Event types"
MAX_EVENT_PAGES = 3
SEARCH_K = 20
_EVENT_NAME_LINE = re.compile(r"^Event name: `[^`\s]+`", re.MULTILINE)
_EVENT_ITEM = re.compile(r"^\s*[-*]\s+`(?P<event>[A-Z][A-Z_]*\.[A-Z_]+)`\s*[—–:-]")
_EVENT_VALUE = re.compile(r"`([A-Z][A-Z_]*)\.[A-Z_]+`")
_ALLOWED_EVENTS = re.compile(
    r"^\s*[-*]\s+`type`[^\n]*Allowed values: (?:`[A-Z_]+\.[A-Z_]+`[,.]? ?)+$"
)
# Closeness in meaning below which an event is not the answer: unrelated webhook
# descriptions reach about this much with any question that says "webhook" (an agent's
# approval webhook for "how do we know the agent install finished?", at 0.41; set on the
# 11 graded read rows, docs/drafting notes in the README).
_MIN_MEANING = 0.45


def _top(heading: str) -> str:
    return heading.split(" > ", maxsplit=1)[0]


def is_webhook_page(doc_id: str, heading: str, lookup: SectionLookup) -> bool:
    return any(_EVENT_NAME_LINE.search(c.text) for c in lookup.section(doc_id, _top(heading))[:1])


def event_hits(
    found: Sequence[Hit], already: Sequence[Hit], lookup: SectionLookup | None
) -> list[Hit]:
    """The description and "Event types" sections of the webhook pages among a search."""
    if lookup is None:
        return []
    have = {h.chunk_id for h in already}
    out: list[Hit] = []
    pages: set[str] = set()
    for hit in found[:SEARCH_K]:
        if hit.doc_id in pages or len(pages) >= MAX_EVENT_PAGES:
            continue
        if not is_webhook_page(hit.doc_id, hit.heading, lookup):
            continue
        pages.add(hit.doc_id)
        top = _top(hit.heading)
        for heading in (top, f"{top} > {EVENT_TYPES_HEADING}"):
            for chunk in lookup.section(hit.doc_id, heading)[:1]:
                if chunk.chunk_id not in have:
                    out.append(Hit.from_chunk(chunk))
                    have.add(chunk.chunk_id)
    return out


@dataclass(frozen=True)
class _Option:
    text: str  # what is compared with the question
    candidate: Candidate
    section: Section
    item: str  # an "Event types" item, or "" for the page's description


def _options(sections: Sequence[Section], lookup: SectionLookup) -> list[_Option]:
    options: list[_Option] = []
    for section in sections:
        if not is_webhook_page(section.hit.doc_id, section.hit.heading, lookup):
            continue
        top_section = " > " not in section.hit.heading
        for cand in section.candidates:
            if cand.block.kind == "list":
                for item in list_items(cand.block):
                    if _EVENT_ITEM.match(item):
                        options.append(_Option(item, cand, section, item))
            elif (
                top_section
                and cand.block.kind == "paragraph"
                and not _EVENT_NAME_LINE.search(cand.block.text)
                and cand.order <= 2
            ):
                options.append(_Option(cand.block.text, cand, section, ""))
    return options


@dataclass(frozen=True)
class EventAnswer:
    chosen: list[Chosen]
    meaning: float  # the event's closeness in meaning to the question


def event_answer(
    question: Question,
    sections: Sequence[Section],
    lookup: SectionLookup | None,
    similarity: BlockSimilarity | None,
) -> EventAnswer | None:
    """The event that fires for what was asked, quoted from its webhook page."""
    if not question.wants_event or lookup is None or similarity is None:
        return None
    options = _options(sections, lookup)
    if not options:
        return None
    scores = similarity.scores(question.text, [o.text for o in options])
    score, best = max(zip(scores, options, strict=True), key=lambda pair: pair[0])
    if score < _MIN_MEANING:
        return None
    if best.item:
        return EventAnswer([Chosen(best.candidate, items=[best.item])], score)
    chosen = [Chosen(best.candidate)]
    allowed = _allowed_events(best.section, lookup)
    if allowed is not None:
        chosen.append(allowed)
    return EventAnswer(chosen, score)


def _allowed_events(section: Section, lookup: SectionLookup) -> Chosen | None:
    """The payload's own event types ("`type` … Allowed values: `BULK_UPLOAD.COMPLETED`,
    `BULK_UPLOAD.FAILED`"): the shortest such line of one event family, not the envelope's
    list of every event Grid sends."""
    best: tuple[int, str, str, str] | None = None
    top = _top(section.hit.heading)
    for heading in (f"{top} > Payload", top):
        for chunk in lookup.section(section.hit.doc_id, heading):
            for line in chunk.text.splitlines():
                if not _ALLOWED_EVENTS.match(line):
                    continue
                families = set(_EVENT_VALUE.findall(line))
                count = len(_EVENT_VALUE.findall(line))
                if len(families) == 1 and (best is None or count < best[0]):
                    best = (count, line.strip(), chunk.chunk_id, chunk.text)
    if best is None:
        return None
    _, line, chunk_id, chunk_text = best
    base = section.candidates[0]
    candidate = replace(
        base,
        chunk_id=chunk_id,
        chunk_text=chunk_text,
        block=Block("list", line),
        terms=terms(line),
        order=len(section.candidates),
    )
    return Chosen(candidate)
