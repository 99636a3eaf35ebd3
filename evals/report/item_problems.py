"""Per-item records of a run and the pick of the worst ones for the report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from evals.collect.item_result import ItemResult

_TEXT_CHARS = 300  # the report truncates cells further; records.jsonl keeps this much
_LEAD_SOURCES = 3


def problems_of(o: ItemResult, scores: Mapping[str, float]) -> list[str]:
    """What went wrong on this item, most serious first."""
    item = o.item
    found = []
    if o.safety.leaked:
        found.append("secret_leak")
    if "secret" in item.flags and not o.safety.redactions:
        found.append("secret_not_redacted")
    if "prompt_injection" in item.flags and not o.needs_human:
        found.append("injection_answered")
    if item.answerable is not None and o.needs_human == item.answerable:
        found.append("answered_unanswerable" if not item.answerable else "needless_handoff")
    if item.priority == "P1" and o.priority not in (None, "P1"):
        found.append("missed_p1")
    if item.category and o.category and item.category != o.category:
        found.append("wrong_category")
    if item.priority and o.priority and item.priority != o.priority:
        found.append("wrong_priority")
    if scores.get("hit@5") == 0.0:
        found.append("retrieval_miss")
    if scores.get("citation_validity", 1.0) < 1.0:
        found.append("invalid_citation")
    return found


def _clip(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _TEXT_CHARS else flat[: _TEXT_CHARS - 1] + "…"


def item_record(o: ItemResult, scores: Mapping[str, float]) -> dict[str, Any]:
    item = o.item
    cited = list(dict.fromkeys(str(c.get("doc_id", "")) for c in o.citations))
    return {
        "id": item.id,
        "problems": problems_of(o, scores),
        "message": _clip(o.question),
        "category": f"{item.category} → {o.category}" if item.category else o.category,
        "priority": f"{item.priority} → {o.priority}" if item.priority else o.priority,
        "answerable": item.answerable,
        "needs_human": o.needs_human,
        "reason": o.reason,
        "flags": o.flags,
        "scores": {k: round(v, 4) for k, v in sorted(scores.items())},
        "draft": _clip(o.draft_text),
        "gold": list(item.gold_doc_ids),
        "cited": cited,
        "retrieved": o.ranked_doc_ids,
    }


def worst_examples(records: Sequence[Mapping[str, Any]], n: int) -> list[dict[str, Any]]:
    """The `n` items with the most problems, lowest ROUGE-L breaking ties, flattened
    into the columns the report's table shows."""

    def badness(record: Mapping[str, Any]) -> tuple[int, float]:
        return len(record["problems"]), -float(record["scores"].get("rouge_l", 1.0))

    bad = [r for r in records if r["problems"]]
    picked = sorted(bad, key=badness, reverse=True)[:n]
    return [
        {
            "id": r["id"],
            "problems": ", ".join(r["problems"]),
            "message": r["message"],
            "category": r["category"],
            "priority": r["priority"],
            "handoff": r["reason"] if r["needs_human"] else "",
            "rouge_l": r["scores"].get("rouge_l"),
            "draft": r["draft"],
            "sources": [f"gold: {d}" for d in r["gold"][:_LEAD_SOURCES]]
            + [f"got: {d}" for d in (r["retrieved"] or r["cited"])[:_LEAD_SOURCES]],
        }
        for r in picked
    ]
