"""Synthetic support history for bench/stats.py, written with COPY into a migrated store.

Arrivals: a year of tickets (ending now) whose daily volume has a weekday pattern
(Monday busiest, weekends ~30 %), a slow upward trend and a few incident days at 3x;
hours follow a working-day curve (UTC).  Each ticket gets the life a support team gives
it: a pipeline draft seconds later (20 % by an LLM, with token counts), a review after a
log-normal wait (shorter for P1) that approves, edits, rejects (then a handwritten
reply) or auto-sends; assignment, notes, solving, a few reopenings; SLA flags from the
policy's wall-clock targets.  Seeded, so two runs write the same rows.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

CATEGORIES = {
    "auth_api_access": "platform", "payouts": "payments", "webhooks": "integrations",
    "sandbox": "platform", "quotes": "payments", "kyc": "compliance", "errors": "platform",
    "sdk": "integrations", "billing": "payments", "account": "support",
}  # fmt: skip
PRIORITIES = (("P1", 0.04, 30), ("P2", 0.18, 120), ("P3", 0.58, 480), ("P4", 0.20, 960))
CHANNELS = (("api", 0.45), ("widget", 0.25), ("slack", 0.22), ("email", 0.08))
LANGUAGES = (("en", 0.8), ("es", 0.1), ("pt", 0.06), ("fr", 0.04))
WEEKDAY = (1.2, 1.1, 1.05, 1.0, 0.9, 0.35, 0.3)
HOURS = [0.2] * 7 + [0.5, 0.9, 1.3, 1.5, 1.5, 1.4, 1.6, 1.7, 1.6, 1.4, 1.1, 0.8, 0.6] + [0.3] * 4
REASONS = ("inaccurate", "incomplete", "wrong_tone", "policy", "other")
AGENTS = [f"tok_{i:04d}:agent{i:02d}" for i in range(20)]


def _pick(rng: random.Random, weighted: tuple[tuple[Any, ...], ...]) -> Any:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def arrivals(rng: random.Random, count: int, days: int, end: datetime) -> list[datetime]:
    start = (end - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    incidents = set(rng.sample(range(days), k=max(1, days // 60)))
    weights = [
        WEEKDAY[(start + timedelta(days=d)).weekday()]
        * (1 + 0.5 * d / days)
        * (3.0 if d in incidents else 1.0)
        for d in range(days)
    ]
    moments = []
    for day in rng.choices(range(days), weights, k=count):
        hour = rng.choices(range(24), HOURS)[0]
        moment = start + timedelta(days=day, hours=hour, seconds=rng.uniform(0, 3600))
        moments.append(min(moment, end - timedelta(seconds=1)))
    return sorted(moments)


@dataclass
class Rows:
    tickets: list[tuple[Any, ...]] = field(default_factory=list)
    drafts: list[tuple[Any, ...]] = field(default_factory=list)
    reviews: list[tuple[Any, ...]] = field(default_factory=list)
    messages: list[tuple[Any, ...]] = field(default_factory=list)
    states: list[tuple[Any, ...]] = field(default_factory=list)


class _Ticket:
    """Builds one ticket's rows into ``rows``."""

    def __init__(self, rng: random.Random, rows: Rows, n: int, opened: datetime, now: datetime):
        self.rng, self.rows, self.opened, self.now = rng, rows, opened, now
        self.id = f"tkt_{n:08d}"
        self.seq = 0
        self.drafts = 0

    def message(self, at: datetime, kind: str, author: str, event: str | None = None) -> None:
        self.seq += 1
        self.rows.messages.append(
            (f"msg_{self.id}_{self.seq}", self.id, self.seq, kind, author, "…", "[]", event,
             None, None, "{}", at)
        )  # fmt: skip

    def draft(self, at: datetime, status: str, *, drafter: str, approved: tuple[str, datetime]
              | None = None, final: str | None = None) -> str:  # fmt: skip
        self.drafts += 1
        draft_id = f"drf_{self.id[4:]}_{self.drafts}"
        provenance: dict[str, Any] = {"drafter": drafter}
        if drafter == "llm":
            provenance |= {"model": "gpt-4o-mini", "prompt_tokens": self.rng.randint(900, 2600),
                           "completion_tokens": self.rng.randint(80, 400)}  # fmt: skip
        citations = [{"chunk_id": f"c{self.rng.randint(1, 400)}", "doc_id": "docs/guides/x"}]
        by, when = approved if approved else (None, None)
        self.rows.drafts.append(
            (draft_id, self.id, self.drafts, "Draft text.", json.dumps(citations), 0.7, False,
             None, json.dumps(provenance), status, final or ("Draft text." if by else None),
             at, by, when)
        )  # fmt: skip
        return draft_id

    def review(self, draft: str, at: datetime, action: str, who: str, **more: Any) -> None:
        self.rows.reviews.append(
            (f"rev_{draft[4:]}_{action}", self.id, draft, action, who, more.get("code"), None,
             more.get("distance"), at)
        )  # fmt: skip


def _life(t: _Ticket, priority: str, target_minutes: int) -> dict[str, Any]:
    rng, opened, now = t.rng, t.opened, t.now
    agent = rng.choice(AGENTS)
    name = agent.split(":")[1]
    t.message(opened, "customer", "dev@example.com")
    assigned = rng.random() < 0.6
    if assigned:
        t.message(opened + timedelta(minutes=rng.uniform(1, 20)), "system", agent, "assigned")
    drafter = "llm" if rng.random() < 0.2 else "offline"
    drafted = opened + timedelta(seconds=rng.uniform(2, 40 if drafter == "llm" else 10))
    median = 600 if priority == "P1" else 2400
    decided = drafted + timedelta(seconds=rng.lognormvariate(math.log(median), 1.0))
    if decided > now:
        t.draft(drafted, "pending", drafter=drafter)
        return {"status": "pending_review", "assignee": name if assigned else None,
                "reply": None, "solved": None}  # fmt: skip
    roll = rng.random()
    reply: datetime | None = decided
    if roll < 0.10:
        t.draft(drafted, "sent", drafter=drafter, approved=("system:auto-send", drafted))
        reply = drafted
    elif roll < 0.65:
        d = t.draft(drafted, "sent", drafter=drafter, approved=(agent, decided))
        t.review(d, decided, "approve", agent, distance=0)
    elif roll < 0.85:
        d = t.draft(drafted, "sent", drafter=drafter, approved=(agent, decided), final="Edited.")
        t.review(d, decided, "edit", agent, distance=rng.randint(3, 250))
    else:
        d = t.draft(drafted, "rejected", drafter=drafter)
        t.review(d, decided, "reject", agent, code=rng.choice(REASONS))
        reply = decided + timedelta(minutes=rng.uniform(3, 25))
        t.draft(reply, "sent", drafter="agent", approved=(agent, reply), final="By hand.")
        t.message(reply, "agent", agent)
    if rng.random() < 0.1:
        t.message(reply + timedelta(minutes=rng.uniform(1, 10)), "note", agent)
    solved = reply + timedelta(seconds=rng.lognormvariate(math.log(3 * 3600), 1.2))
    if solved > now or rng.random() < 0.08:
        return {"status": "sent", "assignee": name if assigned else None, "reply": reply,
                "solved": None}  # fmt: skip
    t.message(solved, "system", agent, "solved")
    if rng.random() < 0.04 and solved + timedelta(days=1) < now:
        back = solved + timedelta(hours=rng.uniform(2, 20))
        t.message(back, "customer", "dev@example.com")
        t.message(back, "system", "public:help", "reopened")
        solved = back + timedelta(hours=rng.uniform(1, 4))
        t.message(solved, "system", agent, "solved")
    return {"status": "solved", "assignee": name if assigned else None, "reply": reply,
            "solved": solved}  # fmt: skip


def generate(count: int, days: int, seed: int = 7) -> Rows:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    rows = Rows()
    for n, opened in enumerate(arrivals(rng, count, days, now)):
        priority, _, target = rng.choices(PRIORITIES, [p[1] for p in PRIORITIES])[0]
        category = rng.choice(list(CATEGORIES))
        channel = _pick(rng, CHANNELS)
        t = _Ticket(rng, rows, n, opened, now)
        life = _life(t, priority, target)
        predicted = category if rng.random() < 0.88 else rng.choice(list(CATEGORIES))
        triage = {"category": predicted, "priority": priority, "language": _pick(rng, LANGUAGES)}
        meta = {"source": "ask"} if channel == "widget" else {}
        rows.tickets.append(
            (t.id, channel, "dev@example.com", "Help with the API", json.dumps(meta),
             json.dumps(triage), "{}", "[]", category, priority, CATEGORIES[category],
             life["status"], opened, opened)
        )  # fmt: skip
        rows.states.append(_state(t.id, opened, life, target, now))
    return rows


def _state(
    ticket: str, opened: datetime, life: dict[str, Any], target: int, now: datetime
) -> tuple[Any, ...]:
    due = opened + timedelta(minutes=target)
    reply, solved = life["reply"], life["solved"]
    first_late = (reply or now) > due
    resolution_due = opened + timedelta(minutes=target * 5)
    resolution_late = (solved or now) > resolution_due
    return (
        ticket, 1, life["assignee"], None, None if reply else due, None,
        None if solved else resolution_due, None if solved else min(due, resolution_due),
        first_late or resolution_late, False, solved or reply or opened,
        first_late, False, resolution_late,
    )  # fmt: skip


COLUMNS = {
    "tickets": "id, channel, reporter, message, metadata, triage, signals, redactions, "
    "category, priority, team, status, created_at, updated_at",
    "drafts": "id, ticket_id, version, text, citations, confidence, needs_human, reason, "
    "provenance, status, final_text, created_at, approved_by, approved_at",
    "review_events": "id, ticket_id, draft_id, action, reviewer, reason_code, reason, "
    "edit_distance, created_at",
    "ticket_messages": "id, ticket_id, seq, kind, author, text, redactions, event, draft_id, "
    "external_id, metadata, created_at",
    "ticket_states": "ticket_id, version, assignee, merged_into, sla_first_response_due, "
    "sla_next_response_due, sla_resolution_due, sla_next_due, sla_breached, sla_paused, "
    "updated_at, sla_first_response_breached, sla_next_response_breached, "
    "sla_resolution_breached",
}


def _tables(rows: Rows) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    yield "tickets", rows.tickets
    yield "drafts", rows.drafts
    yield "review_events", rows.reviews
    yield "ticket_messages", rows.messages
    yield "ticket_states", rows.states


def copy_into(conninfo: str, rows: Rows) -> dict[str, int]:
    counts = {}
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        for table, data in _tables(rows):
            with cur.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
            counts[table] = len(data)
        cur.execute("ANALYZE")
    return counts
