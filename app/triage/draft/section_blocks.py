"""Which blocks of the chosen section answer, and how much of each.

The drafter has picked a section; this takes from it what the question's shape asks for
(a how-to's numbered steps, the rows of a long table or the items of a long list that
hold what was asked, a schema field the developer named) and what those need to read
whole: the lead-in that introduces a list, the block a lead-in or a bold label announces.
"""

from __future__ import annotations

import re

from app.triage.draft.blocks import (
    code_lines,
    is_field_list,
    item_key,
    list_items,
    other_variant_spans,
    schema_fields,
)
from app.triage.draft.candidates import Candidate, Section
from app.triage.draft.compose import Chosen
from app.triage.draft.question import Question
from app.triage.draft.relevance import Weights, identifier_hits, terms

MAX_CODE_LINES = 70
_MAX_LIST_ITEMS_WORDS = 260
_MAX_PROSE_WORDS = 170
_SMALL_TABLE_ROWS = 8
_LONG_LIST_WORDS = 90
_LONG_LIST_ITEMS = 4
_LEAD_IN_WORDS = 40
_BARE_LABEL = re.compile(r"^\s*\*\*[^*\n]{1,80}\*\*:?\s*$")


def _within(block_text: str, item: str, spans: list[tuple[int, int]]) -> bool:
    at = block_text.find(item)
    return any(start <= at < end for start, end in spans)


def balanced(code: str) -> bool:
    """False for an example cut off mid-way (an unclosed brace or bracket)."""
    return code.count("{") == code.count("}") and code.count("[") == code.count("]")


def blocks_for(question: Question, section: Section, weights: Weights) -> list[Chosen]:
    candidates = [c for c in section.candidates if c.block.kind != "code"]
    if not candidates:
        return []
    ranked = sorted(candidates, key=lambda c: -c.score)
    top = ranked[0]
    if top.score <= 0:
        return []
    picked: list[Chosen] = []
    if question.shape == "how_to":
        steps = [c for c in candidates if c.block.kind == "list" and c.block.ordered]
        intro = candidates[0]
        if steps and intro.block.kind == "paragraph" and intro not in steps:
            picked.append(Chosen(intro))
        words = 0
        for step in steps:
            if words + step.block.words > _MAX_LIST_ITEMS_WORDS and picked:
                break
            picked.append(Chosen(step))
            words += step.block.words
    for cand in ranked:
        if len(picked) >= 3 or sum(p.words for p in picked) >= _MAX_PROSE_WORDS:
            break
        if any(p.candidate is cand for p in picked) or cand.score < 0.5 * top.score:
            continue
        item = _take(question, weights, cand, top.score)
        if item is not None:
            picked.append(item)
    # A lead-in that ends with a colon ("You can list them with:") needs what follows.
    for item in list(picked):
        if item.kind == "paragraph" and item.rendered().rstrip().endswith(":"):
            following = _neighbour(section, item.candidate, 1)
            if following is None or _has(picked, following):
                continue
            if following.block.kind == "code" and code_lines(following.block) > MAX_CODE_LINES:
                picked.remove(item)
                continue
            picked.append(_take(question, weights, following, 0.0) or Chosen(following))
    # A list or table introduced by a lead-in ("Payment fails and the refund succeeds:")
    # means nothing without it: several such lists side by side read as one jumble.
    for item in list(picked):
        if item.kind not in ("list", "table", "code"):
            continue
        lead = _neighbour(section, item.candidate, -1)
        if (
            lead is not None
            and lead.block.kind == "paragraph"
            and lead.block.text.rstrip().endswith(":")
            and lead.block.words <= _LEAD_IN_WORDS
            and not _has(picked, lead)
        ):
            picked.append(Chosen(lead))
    _label_what_follows(picked, section, question, weights)
    _with_antecedents(picked, section)
    picked.sort(key=lambda p: p.candidate.order)
    return picked


# A paragraph opening with a pronoun ("This populates the ACH Addenda record…") points back
# at the block before it.
_ANAPHOR = re.compile(r"^\s*(?:This|These|That|Those|It|They|Such|Both|Each of these)\b")


def _with_antecedents(picked: list[Chosen], section: Section) -> None:
    """A paragraph that opens with a pronoun comes with the prose block before it (under the
    same subheading).  A section's own first paragraph ("This endpoint returns…") has none
    and stands as it is."""
    for item in list(picked):
        if item.kind not in ("paragraph", "note") or item.items:
            continue
        if not _ANAPHOR.match(item.candidate.block.text):
            continue
        before = _neighbour(section, item.candidate, -1)
        if (
            before is not None
            and before.block.kind in ("paragraph", "note", "list")
            and before.subheading == item.candidate.subheading
            and not _has(picked, before)
            and before.block.words <= _MAX_PROSE_WORDS
        ):
            picked.append(Chosen(before))


def _neighbour(section: Section, cand: Candidate, step: int) -> Candidate | None:
    """The block `step` places after (or before, negative) `cand` in its section."""
    return next((c for c in section.candidates if c.order == cand.order + step), None)


def _has(picked: list[Chosen], cand: Candidate) -> bool:
    return any(p.candidate is cand for p in picked)


def _label_what_follows(
    picked: list[Chosen], section: Section, question: Question, weights: Weights
) -> None:
    """A bare bold label ("**Response**", "**Lock Sending Amount**") names the block
    after it and says nothing alone: that block comes with it, or the label goes."""
    queue = [p for p in picked if _BARE_LABEL.match(p.candidate.block.text)]
    while queue:
        label = queue.pop()
        following = _neighbour(section, label.candidate, 1)
        if following is None or _has(picked, following):
            continue
        block = following.block
        fits = (
            block.kind != "code" or (code_lines(block) <= MAX_CODE_LINES and balanced(block.text))
        ) and block.kind != "heading"
        taken = _take(question, weights, following, 0.0) if fits else None
        if taken is None:
            picked.remove(label)
            continue
        picked.append(taken)
        if _BARE_LABEL.match(block.text):
            queue.append(taken)


def _take(question: Question, weights: Weights, cand: Candidate, top: float) -> Chosen | None:
    """The block, or only its rows or items that hold what was asked when it is long."""
    block = cand.block
    if block.kind == "table":
        if len(block.rows) <= _SMALL_TABLE_ROWS:
            return Chosen(cand)
        rows = [
            r
            for r in block.rows
            if identifier_hits(question.identifiers, r) or weights.coverage(terms(r)) >= 0.5 * top
        ]
        return Chosen(cand, rows=rows[:_SMALL_TABLE_ROWS]) if rows else None
    if is_field_list(block):
        # A schema dump helps only where it names a field the developer asked about,
        # and then only that field's own line (a line ending "Allowed values:" brings
        # the block that lists them) and not a sibling variant's.
        # A field the question's own sentence names comes first: a pasted body's enum
        # values name sibling fields the developer did not ask about (`type` items for
        # "what is wrong with the amount?").
        others = other_variant_spans(block.text, question.identifiers)
        fields = [(n, t) for n, t in schema_fields(block) if not _within(block.text, t, others)]
        asked = [
            t for n, t in fields if n.lower() in question.asked_words and _pasted_key(n, question)
        ]
        named = [
            t
            for n, t in fields
            if n in question.identifiers or identifier_hits(question.identifiers, t)
        ]
        kept = list(dict.fromkeys([*asked, *named]))[:3]
        return Chosen(cand, items=kept) if kept else None
    if block.kind == "list":
        # Items keyed by what the developer pasted (a list of responses by status, of
        # error codes): the item for their status or code is the answer, the rest noise.
        items = list_items(block)
        keyed = [i for i in items if item_key(i) in question.identifiers]
        if keyed and len(keyed) < len(items):
            return Chosen(cand, items=keyed[:_LONG_LIST_ITEMS])
    if block.kind == "list" and block.words > _LONG_LIST_WORDS:
        items = list_items(block)
        scored = [
            (weights.coverage(terms(i)) + 0.25 * identifier_hits(question.identifiers, i), i)
            for i in items
        ]
        best = max((score for score, _ in scored), default=0.0)
        kept = [i for score, i in scored if score > 0 and score >= 0.6 * best]
        if kept and block.ordered:
            return Chosen(cand, items=_step_run(items, kept))
        return Chosen(cand, items=kept[:_LONG_LIST_ITEMS]) if kept else None
    return Chosen(cand)


def _pasted_key(name: str, question: Question) -> bool:
    """The field appears as a key of what was pasted: a JSON member, a query parameter or
    an identifier in backticks (not just a word of the prose, which names many fields)."""
    return any(form in question.text for form in (f'"{name}"', f"`{name}`", f"{name}="))


def _step_run(items: list[str], kept: list[str]) -> list[str]:
    """Numbered steps read in sequence: "3. … 5. … 7. …" alone reads as a fragment, so the
    run from the first matching step to the last is kept whole, as far as it fits."""
    first, last = items.index(kept[0]), items.index(kept[-1])
    run: list[str] = []
    words = 0
    for item in items[first : last + 1]:
        words += len(item.split())
        if run and words > _MAX_LIST_ITEMS_WORDS:
            break
        run.append(item)
    return run
