"""Answers to "why does POST /x return 409?": the endpoint's own documented meaning of it.

A developer who pastes a method, a path and an error status is asking what that status
means on that endpoint.  The API reference states it in the endpoint page's "Responses"
list ("- **409**: Conflict. Returned when the supplied email address is already
associated with an `EMAIL_OTP` credential …"), which ordinary retrieval seldom ranks
first: the question's words match the guides.  So retrieval finds the endpoint's page by
its endpoint line and adds that list (`status_hits`), and the drafter leads with the
item for the pasted status, quoted as it stands (`status_answer`), when the docs say
more there than the status's name: "- **400**: Bad request" explains nothing, and is
left to the ordinary drafter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from app.triage.draft.blocks import Block, is_field_list, list_items
from app.triage.draft.candidates import Candidate, Section
from app.triage.draft.compose import Chosen
from app.triage.draft.relevance import terms
from app.triage.screen.signals import Endpoint
from ingest.retrieval import Hit
from ingest.sections import SectionLookup

RESPONSES_HEADING = "Responses"
_ENDPOINT_LINE = re.compile(r"^`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`$", re.MULTILINE)
_STATUS_ITEM = re.compile(r"^\s*[-*]\s+\*\*(?P<status>\d{3})\*\*:\s*(?P<meaning>.+)", re.DOTALL)
# A description that says more than the status's reason phrase: "Conflict - External account
# already exists" does, "Bad request - Missing or invalid parameters" and "Customer not
# found" do not (the developer has the status already).
_UNINFORMATIVE = re.compile(
    r"^(?:[\w ]+ - )?(?:(?:missing or )?invalid (?:parameters|input|request)|[\w ,]+ not found"
    r"|internal service error|bad request|unauthorized|forbidden|conflict|too many requests)\.?$",
    re.IGNORECASE,
)
_MIN_EXPLAINING_WORDS = 3
# How many hits of the endpoint search are read for the endpoint's page: a path's words
# also match its neighbours ("/agents/me/quotes/{quoteId}/execute"), so the page itself
# can rank a few places down.
ENDPOINT_SEARCH_K = 20
# "… -> 409." or "409 on PATCH": any error-range number beside a pasted endpoint.  Loose on
# purpose: only a status the endpoint's page explains at length is ever quoted.
_BARE_STATUS = re.compile(r"(?<![\w.$,/:{-])([45]\d\d)(?![\w/}-])")


def error_statuses(statuses: Iterable[int], text: str = "") -> list[int]:
    """The error statuses pasted: the signals' own, and bare numbers in the error range."""
    found = [s for s in statuses if 400 <= s <= 599]
    for match in _BARE_STATUS.finditer(text):
        status = int(match.group(1))
        if status not in found:
            found.append(status)
    return found


def _informative(meaning: str) -> bool:
    meaning = " ".join(meaning.split())
    return len(meaning.split()) >= _MIN_EXPLAINING_WORDS and not _UNINFORMATIVE.match(meaning)


def _explains(text: str, status: int) -> bool:
    """Whether the list in `text` says more of `status` than its reason phrase."""
    for line in text.splitlines():
        match = _STATUS_ITEM.match(line)
        if match and int(match.group("status")) == status:
            return _informative(match.group("meaning"))
    return False


def _template_matches(template: str, path: str) -> bool:
    """`/customers/{customerId}` matches `/customers/Customer:019f…` and `/customers/{id}`."""
    want = template.strip("/").split("/")
    got = path.strip("/").split("/")
    return len(want) == len(got) and all(
        a == b or a.startswith("{") or b.startswith("{") for a, b in zip(want, got, strict=True)
    )


def page_endpoint(doc_id: str, heading: str, lookup: SectionLookup) -> tuple[str, str] | None:
    """The method and path an API-reference page documents, as the endpoint line at the top
    of its first section states them ("`GET /cards`"); `heading` is any of its headings."""
    for chunk in lookup.section(doc_id, heading.split(" > ", maxsplit=1)[0])[:1]:
        match = _ENDPOINT_LINE.search(chunk.text)
        if match:
            return match.group(1), match.group(2)
    return None


def _pasted(endpoint: tuple[str, str] | None, asked: Sequence[Endpoint]) -> bool:
    return endpoint is not None and any(
        e.method == endpoint[0] and _template_matches(endpoint[1], e.path) for e in asked
    )


def _responses_endpoint(section: Section, lookup: SectionLookup) -> tuple[str, str] | None:
    """The endpoint whose "Responses" list the section is, else None."""
    if not section.hit.heading.endswith(f"> {RESPONSES_HEADING}"):
        return None
    return page_endpoint(section.hit.doc_id, section.hit.heading, lookup)


def endpoint_query(endpoints: Sequence[Endpoint]) -> str:
    """The search that finds the pasted endpoints' pages: their method and path."""
    return " ".join(f"{e.method} {e.path}" for e in endpoints if e.method)


def status_hits(
    endpoints: Sequence[Endpoint],
    wanted: Sequence[int],
    found: Sequence[Hit],
    already: Sequence[Hit],
    lookup: SectionLookup | None,
) -> list[Hit]:
    """The "Responses" chunk of each pasted endpoint's page that states a pasted status.

    `found` is a search for the endpoints; a page is recognised by the endpoint line at
    the top of its first section, never by its title or file name."""
    asked = [e for e in endpoints if e.method]
    if lookup is None or not asked or not wanted:
        return []
    have = {h.chunk_id for h in already}
    out: list[Hit] = []
    seen_docs: set[str] = set()
    for hit in found[:ENDPOINT_SEARCH_K]:
        if hit.doc_id in seen_docs:
            continue
        seen_docs.add(hit.doc_id)
        if not _pasted(page_endpoint(hit.doc_id, hit.heading, lookup), asked):
            continue
        responses = f"{hit.heading.split(' > ')[0]} > {RESPONSES_HEADING}"
        for chunk in lookup.section(hit.doc_id, responses):
            if chunk.chunk_id not in have and any(_explains(chunk.text, s) for s in wanted):
                out.append(Hit.from_chunk(chunk))
                have.add(chunk.chunk_id)
                break
    return out


def status_answer(
    endpoints: Sequence[Endpoint],
    wanted: Sequence[int],
    sections: Sequence[Section],
    lookup: SectionLookup | None,
) -> Chosen | None:
    """The item of a pasted status in a pasted endpoint's "Responses" list, when it explains."""
    asked = [e for e in endpoints if e.method]
    if lookup is None or not asked or not wanted:
        return None
    for section in sections:
        endpoint = _responses_endpoint(section, lookup)
        if endpoint is None or not _pasted(endpoint, asked):
            continue
        for candidate in section.candidates:
            if candidate.block.kind != "list":
                continue
            for item in list_items(candidate.block):
                match = _STATUS_ITEM.match(item)
                if (
                    match
                    and int(match.group("status")) in wanted
                    and _informative(match.group("meaning"))
                ):
                    quoted = _quoted_from(candidate, item, section, lookup)
                    if quoted is not None:
                        lead = f"`{endpoint[0]} {endpoint[1]}`"
                        return Chosen(quoted, items=[item], lead=lead)
    return None


def _quoted_from(
    candidate: Candidate, item: str, section: Section, lookup: SectionLookup
) -> Candidate | None:
    """The item as a candidate of the chunk that holds it: a long list runs across chunks,
    and a citation quotes one stored chunk."""
    if item.strip() in candidate.chunk_text:
        return candidate
    for chunk in lookup.section(section.hit.doc_id, section.hit.heading):
        if item.strip() in chunk.text:
            return replace(
                candidate,
                chunk_id=chunk.chunk_id,
                chunk_text=chunk.text,
                block=Block("list", item.strip()),
                terms=terms(item),
            )
    return None


def follows_status(status: Chosen, other: Chosen) -> bool:
    """Whether a block of the section answer may follow a status's meaning.  Graders read
    a schema's field list after it as a wrong lead (the request body's `customerType` after
    a 409 about an email); another endpoint's responses are never quoted (below), nor the
    status's own list a second time."""
    candidate = other.candidate
    return (
        candidate is not status.candidate
        and candidate.quotable
        and not is_field_list(candidate.block)
        # The whole list the status's item came from, quoted again below it (the item may
        # have been read from another chunk of the list, so not the same candidate).
        and not (candidate.source == status.candidate.source and is_status_list(candidate.block))
    )


def is_status_list(block: Block) -> bool:
    return block.kind == "list" and bool(_STATUS_ITEM.match(block.text.lstrip()))


def mark_foreign_lists(
    endpoints: Sequence[Endpoint], sections: Sequence[Section], lookup: SectionLookup | None
) -> None:
    """Another endpoint's lists are not quoted when the developer pasted theirs: POST
    /customers' 409 read as the answer to a 409 from POST /customers/external-accounts
    (graded misleading), or `GET /agents/me/transactions`' date filters as the answer to a
    page-size question about a pasted `GET /transactions` (grid_holdout_p, read after it
    was measured).  A field list is foreign only on a call of the same method: a pasted GET
    showing an object's state may well be answered by its PATCH's request body.  Without a
    pasted endpoint the closest list may well be theirs."""
    asked = [e for e in endpoints if e.method]
    if lookup is None or not asked:
        return
    methods = {e.method for e in asked}
    for section in sections:
        endpoint = page_endpoint(section.hit.doc_id, section.hit.heading, lookup)
        if endpoint is None or _pasted(endpoint, asked):
            continue
        same_method = endpoint[0] in methods
        # A status list may sit under a "Responses" sub-heading of another section too.
        for candidate in section.candidates:
            if is_status_list(candidate.block) or (same_method and is_field_list(candidate.block)):
                candidate.quotable = False
