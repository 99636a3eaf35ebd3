"""Does a draft answer the question?  Checks that need no LLM, read against references.

* **Key-fact recall**: the identifiers, endpoints, numbers, enum values and quoted strings
  of the reference answer that the draft also contains.  Facts the developer's own
  message already states are left out (repeating them answers nothing), unless that
  leaves none.
* **Misleading content** that can be spotted mechanically: a prose line cut off mid-
  sentence; a quoted doc block that shares no content word with the question or the
  reference (a loose sentence from another product area); boilerplate asking for what
  the message already holds (a request id that was pasted).
* **Answers (automatic)**: an answerable row, not handed off, citing a gold document,
  with key-fact recall of at least one half.  It stands in for a human grade; the
  graded file (`evals/datasets/*_graded.jsonl`) measures how well it agrees.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_FACT = re.compile(
    r"`([^`\n]{2,80})`"
    r"|\"([^\"\n]{3,60})\""
    r"|\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b"
    r"|\b([A-Z]+(?:\.[A-Z_]+)+)\b"
    r"|(?<![\w.])(/[a-z][\w-]*(?:/[\w{}.-]+)*)"
    r"|\b(\d+(?:[.,]\d+)*\s?(?:%|bps|ms|seconds?|minutes?|hours?|days?|s)?)(?!\w)"
)
_REQUEST_ID_ASK = re.compile(r"\brequest[ -_]?id\b", re.IGNORECASE)
_REQUEST_ID_GIVEN = re.compile(
    r"\b(?:request[-_ ]?id|x-request-id)\b\s*[:=]?\s*\S{6,}|\breq_[A-Za-z0-9]{6,}", re.IGNORECASE
)
_WORD = re.compile(r"[a-záéíóúñãõç]{4,}", re.IGNORECASE)
_TERMINAL = (".", "!", "?", ":", ")", "`", '"', "*", "]", "…")
_STRUCTURAL = re.compile(r"^\s*(?:[-*+>|#]|\d+[.)]|\[\d+\]|```|~~~|\*\*)")


def reference_facts(reference: str, message: str = "") -> list[str]:
    found: list[str] = []
    for match in _FACT.finditer(reference):
        value = next(g for g in match.groups() if g).strip()
        if len(value) >= 2 and value not in found:
            found.append(value)
    new = [f for f in found if f.lower() not in message.lower()]
    return new or found


def key_fact_recall(reference: str, draft: str, message: str = "") -> float | None:
    facts = reference_facts(reference, message)
    if not facts:
        return None
    lowered = draft.lower()
    return sum(1 for f in facts if f.lower() in lowered) / len(facts)


def _prose_lines(draft: str) -> list[str]:
    lines: list[str] = []
    in_code = False
    for line in draft.splitlines():
        if line.strip().startswith(("```", "~~~")):
            in_code = not in_code
            continue
        if in_code or not line.strip() or _STRUCTURAL.match(line):
            continue
        lines.append(line.strip())
    return lines


def fragment_lines(draft: str) -> int:
    """Prose lines that stop mid-sentence (no closing punctuation, not a label line)."""
    count = 0
    for line in _prose_lines(draft):
        bare = re.sub(r"\s*\[\d+\]$", "", line).rstrip()
        if len(bare.split()) >= 4 and not bare.endswith(_TERMINAL):
            count += 1
    return count


def _content_words(text: str) -> set[str]:
    return {w.lower()[:6] for w in _WORD.findall(text)}


def foreign_blocks(draft: str, message: str, reference: str, framing: Sequence[str] = ()) -> int:
    """Quoted paragraphs that share no content word with the question or its answer.

    `framing` lists the reply's own fixed sentences (greeting, closing), which are not
    quoted documentation and are skipped."""
    anchor = _content_words(message) | _content_words(reference)
    fixed = {" ".join(f.split()) for f in framing}
    count = 0
    for paragraph in re.split(r"\n\s*\n", draft):
        body = paragraph.strip()
        if not body or body.startswith(("```", "[", "**")) or len(body.split()) < 8:
            continue
        if " ".join(body.split()) in fixed:
            continue
        if not _content_words(body) & anchor:
            count += 1
    return count


def asks_for_what_was_given(draft: str, message: str) -> bool:
    return bool(_REQUEST_ID_ASK.search(draft)) and bool(_REQUEST_ID_GIVEN.search(message))


@dataclass(frozen=True)
class DraftReading:
    key_fact_recall: float | None
    gold_cited: bool
    fragments: int
    foreign: int
    redundant_ask: bool

    @property
    def misleading(self) -> bool:
        return self.fragments > 0 or self.foreign > 0 or self.redundant_ask

    def answers(self, answerable: bool | None) -> bool:
        return bool(
            answerable
            and self.gold_cited
            and (self.key_fact_recall is None or self.key_fact_recall >= 0.5)
        )


def read_draft(
    *,
    message: str,
    reference: str,
    draft: str,
    cited_doc_ids: Sequence[str],
    gold_doc_ids: Sequence[str],
    framing: Sequence[str] = (),
) -> DraftReading:
    return DraftReading(
        key_fact_recall=key_fact_recall(reference, draft, message),
        gold_cited=bool(set(cited_doc_ids) & set(gold_doc_ids)),
        fragments=fragment_lines(draft),
        foreign=foreign_blocks(draft, message, reference, framing),
        redundant_ask=asks_for_what_was_given(draft, message),
    )
