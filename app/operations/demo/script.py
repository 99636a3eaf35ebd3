"""The scripted history: one timestamped operation per thing a person does.

The team simulation (team.py) writes these; the replay (replay.py) performs each through
the service layer at its own instant.  Kept as plain data so a plan can be inspected,
counted and compared between two runs of the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

OpKind = Literal[
    "create",  # the ticket arrives (pipeline triage + draft); through /v1/ask with an asker
    "ask",  # a help-page question the page answers itself (no ticket)
    "feedback",  # the asker's "did this help?" on that answer (``text``: the verdict)
    "take",  # an agent takes it (nobody had it)
    "assign",  # an agent takes over a ticket someone else had
    "recategorize",  # corrects category and/or priority against the known label
    "approve",  # approves the pending draft, edited when ``text`` is given
    "reject",  # rejects the pending draft with ``reason_code``
    "write",  # a handwritten reply (``text``)
    "escalate",  # hands the ticket to its team (``text``: the reason)
    "await",  # waits on the customer (SLA clocks paused)
    "solve",
    "follow_up",  # the customer writes again (``text``); reopens a solved ticket
    "respond",  # answers a follow-up: approve its draft when fit and ``u`` < p, else ``text``
    "link",  # links the ticket to ``other`` (the incident's first ticket)
]


@dataclass(frozen=True)
class Op:
    at: datetime
    seq: int  # creation order, to break ties between ops at one instant
    ticket: int  # the ticket's index in the history
    kind: OpKind
    agent: str | None = None
    text: str | None = None
    category: str | None = None
    priority: str | None = None
    reason_code: str | None = None
    other: int | None = None
    u: float = 0.0

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.at, self.seq)
