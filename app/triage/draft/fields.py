"""Answers to "what does POST /x want in `field`?": the pasted endpoint's own field items.

A developer who pastes a call and names a field of it ("GET /transactions?…&limit=500
returns 400 — is there a max page size?") is asking what the API reference says of that
field on that endpoint: its type, bounds and allowed values, in the page's "Parameters"
or "Request body" list.  Ordinary section scoring seldom picks that list: the question's
other words match a guide's prose (the listing guide's rate-limit advice, in that
example).  So when the pasted endpoint's own list names the fields the developer named,
those items lead the answer, quoted as they stand.

Only a few named fields make a question about them: a pasted request body names every
field it sends, and quoting three of those at random answers nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.triage.draft.blocks import is_field_list, schema_fields
from app.triage.draft.candidates import Section
from app.triage.draft.compose import Chosen
from app.triage.draft.question import Question
from app.triage.draft.status import is_request_section, pasted_endpoint_page
from app.triage.screen.signals import Endpoint
from ingest.sections import SectionLookup

MAX_NAMED_FIELDS = 3


def field_answer(
    endpoints: Sequence[Endpoint],
    question: Question,
    sections: Sequence[Section],
    lookup: SectionLookup | None,
) -> Chosen | None:
    """The named fields' items of the pasted endpoint's own request list, else None."""
    asked = [e for e in endpoints if e.method]
    if lookup is None or not asked or not question.identifiers:
        return None
    for section in sections:
        if not is_request_section(section) or not pasted_endpoint_page(section, asked, lookup):
            continue
        for candidate in section.candidates:
            if not candidate.quotable or not is_field_list(candidate.block):
                continue
            fields = schema_fields(candidate.block)
            named = list(dict.fromkeys(t for n, t in fields if n in question.identifiers))
            if 0 < len(named) <= MAX_NAMED_FIELDS:
                return Chosen(candidate, items=named)
    return None
