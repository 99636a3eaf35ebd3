"""What one evaluated item produced, reduced to what the metrics and the report need.

Both evaluation modes (the whole pipeline on our datasets, drafting over given passages
for MTRAG-UN) fill the same record, so scoring has one input shape; `Passage` is the
text of a chunk the drafter could have seen, for citation and context checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from evals.collect.safety import SafetyCheck
from evals.datasets.loader import EvalItem

if TYPE_CHECKING:
    from app.triage.llm.token_count import TokenCounter
    from app.triage.results import DraftReply


class Passage(NamedTuple):
    doc_id: str
    text: str


@dataclass
class ItemResult:
    item: EvalItem
    question: str  # the message as the pipeline stored it (secrets replaced)
    needs_human: bool
    reason: str | None
    draft_text: str
    drafter: str
    citations: list[dict[str, Any]]
    retrieved_chunk_ids: list[str]
    latency_ms: float
    prompt_tokens: int
    completion_tokens: int
    tokens_from_provenance: bool  # False: counted with tiktoken from the draft text
    safety: SafetyCheck
    category: str | None = None  # predicted; None when the mode does not classify
    priority: str | None = None
    flags: list[str] = field(default_factory=list)
    ranked_doc_ids: list[str] = field(default_factory=list)  # retrieval at k, docs de-duplicated
    confidence: float = 0.0  # the draft's confidence (0 for a hand-off)


def token_usage(draft: DraftReply, counter: TokenCounter) -> tuple[int, int, bool]:
    """(prompt, completion, from provenance): an LLM draft reports its own usage; an
    offline or hand-off draft costs no prompt, and its text stands in for the completion."""
    prov = draft.provenance
    if prov.drafter == "llm" and prov.completion_tokens is not None:
        return prov.prompt_tokens or 0, prov.completion_tokens, True
    return 0, counter.count(draft.text) if draft.text else 0, False


def citation_dicts(draft: DraftReply) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json") for c in draft.citations]


def output_texts(draft: DraftReply) -> list[str]:
    """Everything of the draft that leaves the service: where a secret must not appear."""
    return [draft.text, *(c.quote for c in draft.citations)]
