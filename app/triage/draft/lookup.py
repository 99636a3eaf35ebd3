"""Answers to "how do I find / filter / list X by Y?": a list endpoint's query parameters.

Developers ask how to fetch objects by their own id, a reference, a status or a currency
("is there a filter on GET /customers/external-accounts?").  The answer is a query
parameter on the resource's list endpoint, documented in its API-reference page's
"Parameters" list, which ordinary retrieval seldom ranks first: the question's words
match the guides that create those objects.  So retrieval looks for those lists on
purpose (`parameter_hits`), and the drafter answers with the endpoint and its query
parameters, quoted as they stand (`parameter_answer`): all of them, since which filter
fits is for the developer to read, and a short list of one endpoint's filters is easy to
scan where a guessed single one may be the wrong one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.triage.draft.blocks import list_items
from app.triage.draft.candidates import Candidate, Section
from app.triage.draft.compose import Chosen
from app.triage.draft.question import Question
from app.triage.draft.relevance import terms
from app.triage.draft.semantic import BlockSimilarity
from app.triage.draft.status import page_endpoint
from ingest.retrieval import Hit
from ingest.sections import SectionLookup

PARAMETERS_HEADING = "Parameters"
MAX_PARAMETER_SECTIONS = 3
_QUERY_PARAMETER = re.compile(r"^\s*[-*]\s+`(?P<name>[^`\s]+)`\s+\(in query\b")
# Words every filter description uses ("Filter by …", "returns …"): they tell no filter
# from another.
_GENERIC = terms("filter filters return returns list results parameter query string id ids")
_PAGING = frozenset({"limit", "cursor", "sortOrder", "pageSize", "offset"})
# How a parameter list is chosen: closeness in meaning of its best item to the question,
# plus each distinctive question word the item shares, plus the developer naming it or
# its endpoint's path.
_PER_SHARED_WORD = 0.15
_NAMED = 0.5
_TITLE_WORD = 0.1
_MIN_SCORE = 0.35


def is_parameter_list(hit: Hit) -> bool:
    return hit.heading.endswith(PARAMETERS_HEADING) and "(in query" in hit.text


# Added to the question when searching the API reference for parameter lists: it steers
# the search to list endpoints over the create and get endpoints of the same resource.
PARAMETER_QUERY = "list filter by query parameter"


def parameter_hits(found: Sequence[Hit], already: Sequence[Hit]) -> list[Hit]:
    """The query-parameter lists among an API-reference search, not already retrieved."""
    have = {h.chunk_id for h in already}
    picked = [h for h in found if is_parameter_list(h) and h.chunk_id not in have]
    return picked[:MAX_PARAMETER_SECTIONS]


@dataclass(frozen=True)
class _Scored:
    candidate: Candidate
    section: Section
    items: list[str]
    score: float
    endpoint: str
    # The question names the endpoint's resource ("cards" for List cards), one of its
    # parameters or its path: a list of another resource's filters answers nothing
    # (transaction filters for a question about routing webhooks, grid_holdout_j).
    fits: bool


def _score(
    question: Question,
    query_terms: frozenset[str],
    section: Section,
    candidate: Candidate,
    similarity: BlockSimilarity | None,
    endpoint: str,
) -> _Scored | None:
    items = [i for i in list_items(candidate.block) if _QUERY_PARAMETER.match(i)]
    filters = [i for i in items if _name(i) not in _PAGING]
    if not filters:
        return None
    title = terms(section.hit.title.split(" > ")[0]) - _GENERIC
    distinctive = query_terms - _GENERIC - title
    shared = max(len(distinctive & terms(item)) for item in filters)
    path = endpoint.strip("`").partition(" ")[2]
    named = any(_names(_name(i), question.text) for i in filters) or bool(
        path and re.search(rf"{re.escape(path)}(?![\w/-])", question.text)
    )
    meaning = max(similarity.scores(question.text, filters)) if similarity is not None else 0.0
    # "List agent transactions" beside "List transactions": the endpoint whose name says
    # what the question does ("customers", "cards") and nothing it does not ("agent").
    title_fit = len(title & query_terms) - len(title - query_terms)
    score = meaning + _PER_SHARED_WORD * shared + _NAMED * named + _TITLE_WORD * title_fit
    fits = named or bool(title & query_terms)
    return _Scored(candidate, section, items, score, endpoint, fits)


def _names(name: str, text: str) -> bool:
    """The parameter named as an identifier: `platformCardId`, or `type` in backticks.  A
    plain word ("per event type") names no parameter."""
    if re.fullmatch(r"[a-z]+", name):
        return f"`{name}`" in text or f"{name}=" in text
    return bool(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text))


def _name(item: str) -> str:
    match = _QUERY_PARAMETER.match(item)
    return match.group("name") if match else ""


def parameter_answer(
    question: Question,
    query_terms: frozenset[str],
    sections: Sequence[Section],
    lookup: SectionLookup | None,
    similarity: BlockSimilarity | None,
) -> Chosen | None:
    """The best-fitting list endpoint's query parameters, under its endpoint line."""
    if not question.wants_lookup:
        return None
    scored = [
        found
        for section in sections
        if is_parameter_list(section.hit)
        for candidate in section.candidates
        if candidate.block.kind == "list"
        and (
            found := _score(
                question,
                query_terms,
                section,
                candidate,
                similarity,
                _endpoint_line(section.hit, lookup),
            )
        )
    ]
    if not scored:
        return None
    best = max(scored, key=lambda s: (s.score, -s.section.rank))
    if best.score < _MIN_SCORE or not best.fits:
        return None
    return Chosen(best.candidate, items=best.items, lead=best.endpoint)


def _endpoint_line(hit: Hit, lookup: SectionLookup | None) -> str:
    """ "`GET /cards`", as the page states it at the top of its first section."""
    endpoint = page_endpoint(hit.doc_id, hit.heading, lookup) if lookup is not None else None
    return f"`{endpoint[0]} {endpoint[1]}`" if endpoint else ""
