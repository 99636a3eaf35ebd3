"""The support team of the demo history: who answers which ticket, when, and how.

A discrete-event simulation.  Agents work their shifts (history.yaml); a free agent on
shift takes the waiting ticket of highest priority (oldest first) after a short pickup
delay, works on it for a handle time drawn by what they do, and is free again after a
wrap-up.  Outside every shift an on-call agent answers P1 tickets after a page delay.
What an agent does with a draft depends on what the draft is (grounded in the gold docs,
ungrounded, answering although the docs do not, or a hand-off) with the probabilities
of history.yaml; customers answer, and some reopen solved tickets, putting them back in
the queue.  The output is the ordered list of operations (script.py).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from app.operations.demo.config import WEEKDAYS, DemoConfig, Shift
from app.operations.demo.mix import PlannedTicket
from app.operations.demo.script import Op, OpKind
from app.operations.demo.sources import DemoMessage

AFTER = timedelta(seconds=30)


@dataclass(frozen=True)
class DraftFacts:
    """What the team needs to know of a ticket's triage and first draft."""

    category: str
    priority: str
    team: str | None
    needs_human: bool
    text: str
    cited_doc_ids: frozenset[str]


@dataclass(frozen=True)
class WorkItem:
    ticket: int
    ready: datetime
    kind: str  # "new" or "follow_up"
    rank: str  # the priority the queue sorts by


def draft_class(cited_doc_ids: frozenset[str], message: DemoMessage) -> str:
    """grounded (documented, cites a gold doc), ungrounded (documented, no gold doc cited)
    or off_docs (the docs do not answer it): what an agent, or an asker, makes of it."""
    if not message.documented:
        return "off_docs"
    return "grounded" if cited_doc_ids & set(message.gold_doc_ids) else "ungrounded"


def window(shift: Shift, at: datetime) -> tuple[datetime, datetime]:
    """The shift's current or next working window [start, end) ending after ``at``."""
    day = at.date()
    for offset in range(8):
        current = day + timedelta(days=offset)
        if WEEKDAYS[current.weekday()] not in shift.days:
            continue
        start = datetime.combine(current, shift.start, tzinfo=UTC)
        end = datetime.combine(current, shift.end, tzinfo=UTC)
        if at < end:
            return max(start, at), end
    raise ValueError(f"shift {shift.name} has no working day")  # refused by the config


class TeamSimulation:
    def __init__(
        self,
        config: DemoConfig,
        tickets: Sequence[PlannedTicket],
        facts: Callable[[PlannedTicket], DraftFacts],
        team_for: Callable[[str], str | None],
        end: datetime,
        rng: np.random.Generator,
        answered: Collection[int] = frozenset(),
    ) -> None:
        self.config = config
        self.tickets = tickets
        # Help-page questions answered without a ticket (help_page.py): nobody works on them.
        self.answered = answered
        self.facts = facts
        self.team_for = team_for
        self.end = end
        self.rng = rng
        self.ops: list[Op] = []
        self._seq = itertools.count()
        self._events: list[tuple[datetime, int, str, object]] = []
        self.queue: list[tuple[str, datetime, int, WorkItem]] = []
        self.busy_until: dict[str, datetime] = {}
        self.assignee: dict[int, str] = {}
        self.first_of_incident: dict[int, int] = {}

    # -- helpers ----------------------------------------------------------------------
    def _emit(self, at: datetime, ticket: int, kind: OpKind, **fields: object) -> None:
        if at < self.end:
            self.ops.append(Op(at, next(self._seq), ticket, kind, **fields))  # type: ignore[arg-type]

    def _schedule(self, at: datetime, kind: str, payload: object) -> None:
        if at < self.end:
            heapq.heappush(self._events, (at, next(self._seq), kind, payload))

    def _minutes(self, median: float) -> timedelta:
        sigma = self.config.handle_minutes.sigma
        return timedelta(minutes=float(median * np.exp(sigma * self.rng.standard_normal())))

    def _hours(self, median: float) -> timedelta:
        return timedelta(hours=float(median * np.exp(0.6 * self.rng.standard_normal())))

    def _choice(self, table: dict[str, float]) -> str:
        names = sorted(table)
        p = np.array([table[n] for n in names])
        return names[int(self.rng.choice(len(names), p=p / p.sum()))]

    def _text(self, name: str, language: str, team: str | None) -> str:
        options = self.config.texts.pick(name, language)
        return options[int(self.rng.integers(len(options)))].replace("{team}", team or "support")

    def _on_shift(self, at: datetime) -> bool:
        return any(window(s, at)[0] == at for s in self.config.team.agents)

    # -- the event loop --------------------------------------------------------------
    def run(self) -> list[Op]:
        for planned in self.tickets:
            if planned.index in self.answered:
                continue
            facts = self.facts(planned)
            self._emit(planned.arrival.at, planned.index, "create")
            self._schedule(
                planned.arrival.at,
                "ready",
                WorkItem(planned.index, planned.arrival.at, "new", facts.priority),
            )
        for shift in self.config.team.agents:
            first = self.tickets[0].arrival.at if self.tickets else self.end
            self._schedule(window(shift, first)[0], "agent", shift.name)
        while self._events:
            at, _, kind, payload = heapq.heappop(self._events)
            if kind == "ready":
                self._ready(at, payload)  # type: ignore[arg-type]
            elif kind == "agent":
                self._agent(at, str(payload))
            elif kind == "page":
                self._page(at, payload)  # type: ignore[arg-type]
        self.ops.sort(key=lambda op: op.order)
        return self.ops

    def _ready(self, at: datetime, item: WorkItem) -> None:
        heapq.heappush(self.queue, (item.rank, item.ready, next(self._seq), item))
        for shift in self.config.team.agents:
            if self.busy_until.get(shift.name, at) <= at:
                self._schedule(at, "agent", shift.name)
        on_call = self.config.team.on_call
        if on_call and item.rank in on_call.priorities and not self._on_shift(at):
            self._schedule(
                at + timedelta(minutes=float(self.rng.uniform(*on_call.page_minutes))), "page", item
            )

    def _agent(self, at: datetime, name: str) -> None:
        if self.busy_until.get(name, at) > at:
            return  # busy: its own "free" event comes later
        shift = next(s for s in self.config.team.agents if s.name == name)
        start, end = window(shift, at)
        if start > at:
            self._schedule(start, "agent", name)
            return
        if not self.queue:
            # Idle: woken by the next ready item; back at the next shift otherwise.
            self._schedule(window(shift, end)[0], "agent", name)
            return
        _, _, _, item = heapq.heappop(self.queue)
        taken = at + self._minutes(self.config.team.pickup_minutes)
        self.busy_until[name] = self._handle(item, name, taken)
        self._schedule(self.busy_until[name], "agent", name)

    def _page(self, at: datetime, item: WorkItem) -> None:
        entry = next((e for e in self.queue if e[3] is item), None)
        on_call = self.config.team.on_call
        if entry is None or on_call is None:
            return  # somebody on shift took it meanwhile
        busy = self.busy_until.get(on_call.name, at)
        if busy > at:
            self._schedule(busy, "page", item)
            return
        self.queue.remove(entry)
        heapq.heapify(self.queue)
        self.busy_until[on_call.name] = self._handle(item, on_call.name, at)

    # -- one ticket --------------------------------------------------------------------
    def _claim(self, ticket: int, agent: str, at: datetime) -> None:
        current = self.assignee.get(ticket)
        if current != agent:
            self._emit(at, ticket, "take" if current is None else "assign", agent=agent)
            self.assignee[ticket] = agent

    def _handle(self, item: WorkItem, agent: str, at: datetime) -> datetime:
        """Script the agent's work on ``item`` from ``at``; returns when they are free."""
        self._claim(item.ticket, agent, at)
        if item.kind == "follow_up":
            return self._follow_up(item, agent, at)
        planned = self.tickets[item.ticket]
        facts = self.facts(planned)
        message = planned.message
        cursor = at + AFTER
        incident = planned.arrival.incident
        if incident is not None:
            first = self.first_of_incident.setdefault(incident, item.ticket)
            if first != item.ticket:
                self._emit(cursor, item.ticket, "link", agent=agent, other=first)
        cursor = self._correct(
            item.ticket, agent, facts, message.category, message.priority, cursor
        )
        team = self.team_for(message.category) if message.category else facts.team
        replied = self._respond(item.ticket, agent, facts, planned, team, at, cursor)
        self._after_reply(item.ticket, agent, replied, message.language, team)
        return replied + timedelta(minutes=self.config.handle_minutes.wrap_up)

    def _correct(
        self,
        ticket: int,
        agent: str,
        facts: DraftFacts,
        category: str | None,
        priority: str | None,
        at: datetime,
    ) -> datetime:
        fix_category = (
            category is not None
            and category != facts.category
            and self.team_for(category) is not None
            and self.rng.random() < self.config.fix_category
        )
        fix_priority = (
            priority is not None
            and priority != facts.priority
            and self.rng.random() < self.config.fix_priority
        )
        if not (fix_category or fix_priority):
            return at
        self._emit(
            at,
            ticket,
            "recategorize",
            agent=agent,
            category=category if fix_category else None,
            priority=priority if fix_priority else None,
        )
        return at + timedelta(minutes=1)

    def _respond(
        self,
        ticket: int,
        agent: str,
        facts: DraftFacts,
        planned: PlannedTicket,
        team: str | None,
        taken: datetime,
        cursor: datetime,
    ) -> datetime:
        """The reply's ops; returns when the reply is sent."""
        hm = self.config.handle_minutes
        message = planned.message
        language = message.language
        handwritten = (
            message.reference_answer
            if message.documented and message.reference_answer
            else self._text("reply", language, team)
        )
        if facts.needs_human:
            if self._choice(self.config.handoff) == "escalate":
                reason = self._text("escalation_reason", language, team)
                self._emit(cursor, ticket, "escalate", agent=agent, text=reason)
            sent = max(taken + self._minutes(hm.reply), cursor + AFTER)
            self._emit(sent, ticket, "write", agent=agent, text=handwritten)
            return sent
        kind = draft_class(facts.cited_doc_ids, planned.message)
        outcome = self._choice(self.config.outcomes[kind])
        if outcome == "reject":
            reason = self._choice(self.config.reject_reasons[kind])
            rejected = max(taken + self._minutes(hm.approve), cursor)
            self._emit(rejected, ticket, "reject", agent=agent, reason_code=reason)
            sent = max(taken + self._minutes(hm.reply), rejected + AFTER)
            self._emit(sent, ticket, "write", agent=agent, text=handwritten)
            return sent
        median = {"approve": hm.approve, "edit": hm.edit, "rewrite": hm.rewrite}[outcome]
        sent = max(taken + self._minutes(median), cursor)
        text: str | None = None
        if outcome == "edit":
            prefix = self._text("edit_prefix", language, team)
            suffix = self._text("edit_suffix", language, team)
            text = f"{prefix}{facts.text}{suffix}"
        elif outcome == "rewrite":
            text = handwritten
        self._emit(sent, ticket, "approve", agent=agent, text=text)
        return sent

    def _after_reply(
        self, ticket: int, agent: str, replied: datetime, language: str, team: str | None
    ) -> None:
        c = self.config
        if self.rng.random() < c.await_customer:
            self._emit(replied + AFTER, ticket, "await", agent=agent)
            if self.rng.random() < c.customer_answers:
                self._customer(
                    ticket, replied + self._hours(c.reply_hours), "customer_answer", language
                )
            else:
                self._emit(
                    replied + timedelta(hours=c.close_after_hours), ticket, "solve", agent=agent
                )
            return
        self._emit(replied + AFTER, ticket, "solve", agent=agent)
        if self.rng.random() < c.reopen:
            self._customer(ticket, replied + self._hours(c.reopen_hours), "reopen", language)

    def _customer(self, ticket: int, at: datetime, texts: str, language: str) -> None:
        self._emit(at, ticket, "follow_up", text=self._text(texts, language, None))
        rank = self.facts(self.tickets[ticket]).priority
        self._schedule(at, "ready", WorkItem(ticket, at, "follow_up", rank))

    def _follow_up(self, item: WorkItem, agent: str, at: datetime) -> datetime:
        planned = self.tickets[item.ticket]
        facts = self.facts(planned)
        team = self.team_for(planned.message.category or "") or facts.team
        sent = at + self._minutes(self.config.handle_minutes.follow_up)
        text = self._text("follow_up_reply", planned.message.language, team)
        self._emit(sent, item.ticket, "respond", agent=agent, text=text, u=float(self.rng.random()))
        self._emit(sent + AFTER, item.ticket, "solve", agent=agent)
        return sent + timedelta(minutes=self.config.handle_minutes.wrap_up)
