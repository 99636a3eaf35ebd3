"""Operations statistics over a date range, grouped one way: what GET /v1/stats answers.

Reads the stored rows of the metric views (the fact tables, app/store/metric_facts.py;
statements in app/operations/metrics/stats_sql.py), after refreshing the tickets that changed since
they were last copied, so an answer reflects every committed change.  Sections:

- tickets opened in the range: volume, /v1/ask hand-offs, reopened, the four timings
  (nearest-rank percentiles, whole seconds) and SLA attainment per clock;
- pipeline drafts written in the range: the acceptance funnel, edit distance, tokens;
- agent actions taken in the range: throughput and handle time (gap to the agent's
  previous action, up to 30 minutes; as metric_agent_handle_times).

Agent actions are grouped only by day, week and agent; for the other groupings the
section is in the totals alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, text

from app.operations.metrics import stats_sql
from app.operations.metrics.refresh import refresh_stale, tune_planner
from app.operations.metrics.stats_sql import KEYS, MEASURES, Group
from app.store.columns import UTCDateTime

REFRESH_LIMIT = 2000


@dataclass
class Timing:
    count: int = 0
    p50_seconds: int | None = None
    p90_seconds: int | None = None
    p95_seconds: int | None = None
    max_seconds: int | None = None


@dataclass
class Sla:
    tracked: int = 0
    breached: int = 0
    first_response_breached: int = 0
    next_response_breached: int = 0
    resolution_breached: int = 0

    @property
    def attainment(self) -> float | None:
        return (self.tracked - self.breached) / self.tracked if self.tracked else None


@dataclass
class Tickets:
    opened: int = 0
    self_service_handoffs: int = 0
    reopened: int = 0
    sla: Sla = field(default_factory=Sla)
    timings: dict[str, Timing] = field(default_factory=lambda: {m: Timing() for m in MEASURES})


@dataclass
class Drafts:
    total: int = 0
    approved_unedited: int = 0
    edited: int = 0
    rejected: int = 0
    rewritten: int = 0
    auto_sent: int = 0
    superseded: int = 0
    pending: int = 0
    rewritten_by_hand: int = 0
    edit_distance_total: int = 0
    with_usage: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def reviewed(self) -> int:
        """Drafts a person decided on: approved (as written or edited), rejected, rewritten."""
        return self.approved_unedited + self.edited + self.rejected + self.rewritten

    @property
    def acceptance_rate(self) -> float | None:
        return (self.approved_unedited + self.edited) / self.reviewed if self.reviewed else None

    @property
    def unedited_rate(self) -> float | None:
        return self.approved_unedited / self.reviewed if self.reviewed else None

    @property
    def edit_distance_mean(self) -> float | None:
        return self.edit_distance_total / self.edited if self.edited else None


@dataclass
class Agents:
    actions: int = 0
    tickets: int = 0
    approvals: int = 0
    edits: int = 0
    rejections: int = 0
    escalations: int = 0
    replies: int = 0
    notes: int = 0
    solves: int = 0
    timed_actions: int = 0
    handle_seconds_total: int = 0

    @property
    def handle_seconds_mean(self) -> float | None:
        return self.handle_seconds_total / self.timed_actions if self.timed_actions else None


@dataclass
class Row:
    key: str | None
    tickets: Tickets = field(default_factory=Tickets)
    drafts: Drafts = field(default_factory=Drafts)
    agents: Agents | None = None


@dataclass(frozen=True)
class Stats:
    start: datetime
    end: datetime
    group: Group
    totals: Row
    groups: list[Row]


def _fill(target: Any, values: dict[str, Any]) -> None:
    for f in fields(target):
        if f.name in values and values[f.name] is not None:
            setattr(target, f.name, int(values[f.name]))


class StatsService:
    def __init__(self, engine: Engine, *, refresh_limit: int = REFRESH_LIMIT) -> None:
        self.engine = engine
        self.refresh_limit = refresh_limit

    def stats(self, start: datetime, end: datetime, group: Group) -> Stats:
        # Normally a handful of tickets (the background refresher keeps up); bounded so
        # that a bulk import cannot hold one request for minutes.
        refresh_stale(self.engine, limit=self.refresh_limit)
        keys = KEYS[group]
        dialect = self.engine.dialect.name
        params = {"start": start, "end": end}
        rows: dict[str | None, Row] = {}
        totals = Row(None, agents=Agents())

        def row(key: Any) -> Row:
            name = None if key is None else str(key)
            if name not in rows:
                rows[name] = Row(name, agents=Agents() if keys.actions else None)
            return rows[name]

        with self.engine.connect() as conn:
            tune_planner(conn)
            for record in _run(conn, stats_sql.tickets(keys.tickets), params):
                _add_tickets(row(record["grp"]).tickets, record)
                _add_tickets(totals.tickets, record)
            for record in _run(conn, stats_sql.timings(keys.tickets, dialect), params):
                target = totals if record["total"] else row(record["grp"])
                target.tickets.timings[record["measure"]] = Timing(
                    int(record["count"]),
                    *(_int(record[p]) for p in ("p50", "p90", "p95", "max")),
                )
            for record in _run(conn, stats_sql.drafts(keys.drafts), params):
                _fill(row(record["grp"]).drafts, record)
                _add(totals.drafts, record)
            for record in _run(conn, stats_sql.actions(keys.actions), params):
                agents = totals.agents if record["total"] else row(record["grp"]).agents
                assert agents is not None
                _fill(agents, record)
        return Stats(start, end, group, totals, _ordered(rows.values()))


def _run(conn: Connection, sql: str, params: dict[str, Any]) -> Sequence[dict[str, Any]]:
    statement = text(sql).bindparams(
        bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())
    )
    return [dict(r) for r in conn.execute(statement, params).mappings()]


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _add(target: Any, values: dict[str, Any]) -> None:
    for f in fields(target):
        if f.name in values and values[f.name] is not None:
            setattr(target, f.name, getattr(target, f.name) + int(values[f.name]))


def _add_tickets(target: Tickets, record: dict[str, Any]) -> None:
    target.opened += int(record["tickets"])
    target.self_service_handoffs += int(record["self_service"])
    target.reopened += int(record["reopened"])
    sla = target.sla
    sla.tracked += int(record["sla_tracked"])
    sla.breached += int(record["sla_breached"])
    for clock in ("first_response", "next_response", "resolution"):
        name = f"{clock}_breached"
        setattr(sla, name, getattr(sla, name) + int(record[f"sla_{name}"]))


def _ordered(rows: Iterable[Row]) -> list[Row]:
    """By key (days, weeks and priorities then read in order); no key last."""
    return sorted(rows, key=lambda r: (r.key is None, r.key or ""))
