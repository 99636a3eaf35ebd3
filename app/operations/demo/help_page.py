"""The help page's share of the demo history: questions asked on /help, and what the askers do.

Ordinary arrivals on the widget channel are asked on the help page (history.yaml
``self_service.widget_share``) by a browser whose asker id is the developer's.  Whether
the page answers is the ask service's own rule (app/services/asking.py
``shown_directly``) applied to the same offline result the replay will store, so the plan
and the replay agree: a handed-off question is a ticket like any other (the team works
on it), an answered one is a self-service answer.  Answered askers may say whether it
helped (more often yes when the answer cites the question's gold docs), and some come
back to /help later with a question the page hands off — the ticket that makes an
answer *not* deflected when it falls inside TRIAGE_DEFLECTION_WINDOW_HOURS.  Everything
here is plan; replay.py performs it through the services.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

from app.operations.demo.arrivals import Arrival
from app.operations.demo.config import SelfService
from app.operations.demo.mix import PlannedTicket
from app.operations.demo.script import Op
from app.operations.demo.sources import DemoMessage
from app.operations.demo.team import draft_class
from app.services.asking import shown_directly
from app.triage.results import AskResult

HELP_CHANNEL = "widget"  # what /v1/ask stores a handed-off question as
# Draws among a group's rows for a question the page hands off, before taking any row.
MAX_DRAWS = 50


@dataclass(frozen=True)
class HelpPlan:
    # Every arrival, then the questions of askers who came back; index = position.
    tickets: list[PlannedTicket]
    # Indexes the help page answers: no ticket, the team never sees them.
    answered: frozenset[int]
    # The answered questions ("ask") and the askers' verdicts ("feedback").
    ops: list[Op]


def asker_id(reporter: str) -> str:
    """The opaque id the developer's browser sends (the service keeps only its keyed hash)."""
    return f"demo-browser:{reporter}"


class HelpPagePlanner:
    def __init__(
        self,
        config: SelfService,
        groups: dict[str, list[DemoMessage]],
        result_of: Callable[[str], AskResult],
        end: datetime,
        rng: np.random.Generator,
    ) -> None:
        self.config = config
        self.groups = groups
        self.result_of = result_of
        self.end = end
        self.rng = rng

    def answers(self, message: DemoMessage) -> bool:
        draft = self.result_of(message.text).draft
        return shown_directly(draft, self.config.answer_min_confidence)

    def plan(self, planned: Sequence[PlannedTicket]) -> HelpPlan:
        tickets = list(planned)
        answered: set[int] = set()
        ops: list[Op] = []
        for p in planned:
            if p.arrival.incident is not None or p.channel != HELP_CHANNEL:
                continue
            if self.rng.random() >= self.config.widget_share:
                continue
            asked = replace(p, asker=asker_id(p.reporter))
            tickets[p.index] = asked
            if not self.answers(p.message):
                continue  # handed off: a ticket, created through /help by the replay
            answered.add(p.index)
            ops.append(Op(p.arrival.at, len(ops), p.index, "ask"))
            verdict = self._verdict(p, ops)
            back = self._comes_back(asked, verdict, len(tickets))
            if back is not None:
                tickets.append(back)
        return HelpPlan(tickets, frozenset(answered), ops)

    def _verdict(self, p: PlannedTicket, ops: list[Op]) -> str | None:
        c = self.config
        if self.rng.random() >= c.feedback:
            return None
        facts = self.result_of(p.message.text).draft
        kind = draft_class(frozenset(x.doc_id for x in facts.citations), p.message)
        verdict = "helpful" if self.rng.random() < c.helpful[kind] else "not_helpful"
        minutes = c.feedback_minutes * float(np.exp(0.45 * self.rng.standard_normal()))
        at = p.arrival.at + timedelta(minutes=minutes)
        if at < self.end:
            ops.append(Op(at, len(ops), p.index, "feedback", text=verdict))
        return verdict

    def _comes_back(
        self, asked: PlannedTicket, verdict: str | None, index: int
    ) -> PlannedTicket | None:
        c = self.config
        if self.rng.random() >= getattr(c.comes_back, verdict or "silent"):
            return None
        hours = c.comes_back_hours * float(np.exp(c.comes_back_sigma * self.rng.standard_normal()))
        at = asked.arrival.at + timedelta(hours=hours)
        if at >= self.end:
            return None
        message = self._handed_off_question(asked.message.source)
        return PlannedTicket(
            index,
            Arrival(at),
            message,
            HELP_CHANNEL,
            asked.reporter,
            asker=asked.asker,
            came_back_after=verdict or "silent",
        )

    def _handed_off_question(self, group: str) -> DemoMessage:
        """A row of the same group that the page hands off (a ticket), drawn uniformly."""
        pool = self.groups[group]
        for _ in range(MAX_DRAWS):
            message = pool[int(self.rng.integers(len(pool)))]
            if not self.answers(message):
                return message
        return message  # a group the page answers throughout: the asker asks again anyway
