"""The offline triage pipeline, run once per distinct question and reused for repeats.

The demo history replays a few hundred distinct messages thousands of times, and the
offline pipeline is deterministic, so a repeat gets the same result.  A follow-up's
result depends on the conversation only through the developer's earlier messages (a
referential follow-up is read together with them, app/triage/pipeline.py ``in_context``;
the offline drafter does not read the agents' replies), so those, not the whole
history, are the cache key.  That would not hold for the LLM drafter, which is one
reason the demo history always drafts offline.  Caching is what makes a 120-day history
take minutes rather than an hour; the counts say how often a result was reused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.services.runtime import Pipeline
from app.triage.draft.protocol import Turn
from app.triage.pipeline import CUSTOMER_ROLES
from app.triage.results import AskResult

Key = tuple[str, tuple[str, ...]]


@dataclass
class CachedPipeline:
    pipeline: Pipeline
    runs: int = 0
    reused: int = 0
    _cache: dict[Key, AskResult] = field(default_factory=dict)

    def run(self, message: str, *, history: Sequence[Turn] = ()) -> AskResult:
        asked = tuple(t.content for t in history if t.role in CUSTOMER_ROLES)
        key = (message, asked)
        cached = self._cache.get(key)
        if cached is not None:
            self.reused += 1
            return cached
        result = self.pipeline.run(message, history=history)
        self._cache[key] = result
        self.runs += 1
        return result
