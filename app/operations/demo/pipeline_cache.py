"""The triage pipeline, run once per distinct message and reused for its repeats.

The demo history replays a few hundred distinct messages thousands of times; the
offline pipeline is deterministic, so a repeat of the same text (with the same
conversation before it) gets the same result.  Caching it is what makes a 120-day
history take minutes rather than an hour; the counts say how often it was reused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.services.runtime import Pipeline
from app.triage.draft.protocol import Turn
from app.triage.results import AskResult

Key = tuple[str, tuple[tuple[str, str], ...]]


@dataclass
class CachedPipeline:
    pipeline: Pipeline
    runs: int = 0
    reused: int = 0
    _cache: dict[Key, AskResult] = field(default_factory=dict)

    def run(self, message: str, *, history: Sequence[Turn] = ()) -> AskResult:
        key = (message, tuple((t.role, t.content) for t in history))
        cached = self._cache.get(key)
        if cached is not None:
            self.reused += 1
            return cached
        result = self.pipeline.run(message, history=history)
        self._cache[key] = result
        self.runs += 1
        return result
