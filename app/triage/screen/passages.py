"""Retrieved passages a draft may use: every hit is screened, untrusted ones withheld.

A doc page can be poisoned (it asks for a client secret, speaks to the model, lures to
an outside domain).  Such a passage never reaches a draft, a prompt or a public answer;
when one ranked among the best hits, the question is one a poisoned page was meant to
answer, so the draft goes to a person (``untrusted_source``).
"""

from __future__ import annotations

from collections.abc import Sequence

from app.triage.results import TriageResult
from ingest.retrieval import Hit, HybridRetriever

__all__ = ["UNTRUSTED_SOURCE", "trusted_passages"]

UNTRUSTED_SOURCE = "untrusted_source"

# "Among the best hits": the passages a draft leans on most.
TOP_HITS = 3


def trusted_passages(
    hits: Sequence[Hit], retriever: HybridRetriever, triage: TriageResult, *, top: int = TOP_HITS
) -> list[Hit]:
    """The usable hits, in order; records ``untrusted_source`` in the triage flags when a
    withheld hit was among the `top` ranked."""
    usable, flagged = retriever.screen(hits)
    best = {hit.chunk_id for hit in hits[:top]}
    if any(hit.chunk_id in best for hit in flagged) and UNTRUSTED_SOURCE not in triage.flags:
        triage.flags.append(UNTRUSTED_SOURCE)
    return usable
