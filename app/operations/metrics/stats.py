"""Operations statistics over a date range, grouped one way: what GET /v1/stats answers.

Reads the stored rows of the metric views (the fact tables, app/store/metric_facts.py;
statements in app/operations/metrics/stats_sql.py), after refreshing the tickets that changed since
they were last copied, so an answer reflects every committed change.  Sections:

- tickets opened in the range: volume, /v1/ask hand-offs, reopened, the four timings
  (nearest-rank percentiles, whole seconds) and SLA attainment per clock;
- pipeline drafts written in the range: the acceptance funnel, edit distance, tokens;
- agent actions taken in the range: throughput and handle time (gap to the agent's
  previous action, up to 30 minutes; as metric_agent_handle_times);
- self-service answers given in the range, and deflection (app/operations/metrics/deflection.py).

Agent actions are grouped only by day, week and agent, self-service answers by day,
week and category; for the other groupings the section is in the totals alone.

Counts and sums over whole UTC days come from the daily rollups (one row per day and
group, app/store/metric_rollups.py), the partial days at either end of the range from
the fact rows; percentiles and distinct tickets per agent, which are not sums of days,
always come from the fact rows, so every figure is exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, Engine, bindparam, text

from app.operations.metrics import deflection, histogram, stats_sql
from app.operations.metrics.config import MetricsConfig
from app.operations.metrics.deflection import SelfService
from app.operations.metrics.refresh import refresh_stale, tune_planner
from app.operations.metrics.stats_sql import KEYS, MEASURES, Group, Keys
from app.operations.metrics.touched import distinct_tickets
from app.store.columns import UTCDateTime, utcnow
from app.store.metric_rollups import ACTION_SUMS, DRAFT_SUMS

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
    # The same in TRIAGE_BUSINESS_HOURS; None when none are configured.
    business_timings: dict[str, Timing] | None = None


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
    with_cost: int = 0
    cost: float | None = None

    @property
    def cost_per_draft(self) -> float | None:
        """Mean cost of the drafts whose cost is known (LLM drafts, prices configured)."""
        return self.cost / self.with_cost if self.with_cost and self.cost is not None else None

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
    self_service: SelfService | None = None


@dataclass(frozen=True)
class Stats:
    start: datetime
    end: datetime
    group: Group
    totals: Row
    groups: list[Row]
    # How the timing percentiles were ranked: the exact timings, or buckets (long ranges).
    percentiles: Literal["exact", "histogram"] = "exact"


_DRAFT_ROLLUP = [*(f"SUM({c}) AS {c}" for c in DRAFT_SUMS), "SUM(cost) AS cost"]
_ACTION_ROLLUP = [f"SUM({c}) AS {c}" for c in ACTION_SUMS]


@dataclass(frozen=True)
class Spans:
    """A range cut into whole UTC days (``days``: [first, end) as dates, or None) and the
    partial stretches at its ends, read from the fact rows."""

    days: tuple[str, str] | None
    edges: list[tuple[datetime, datetime]]


def split(start: datetime, end: datetime) -> Spans:
    def midnight(moment: datetime) -> datetime:
        return datetime.combine(moment.astimezone(UTC).date(), time(), tzinfo=UTC)

    first = midnight(start)
    if first < start:
        first += timedelta(days=1)
    last = midnight(end)
    if first >= last:
        return Spans(None, [(start, end)])
    edges = [(a, b) for a, b in ((start, first), (last, end)) if a < b]
    return Spans((first.date().isoformat(), last.date().isoformat()), edges)


class StatsService:
    def __init__(
        self,
        engine: Engine,
        *,
        refresh_limit: int = REFRESH_LIMIT,
        config: MetricsConfig | None = None,
        use_rollups: bool = True,
    ) -> None:
        self.engine = engine
        self.refresh_limit = refresh_limit
        self.config = config or MetricsConfig()
        # False reads every count from the fact rows (the tests compare both ways).
        self.use_rollups = use_rollups

    def stats(
        self, start: datetime, end: datetime, group: Group, now: datetime | None = None
    ) -> Stats:
        # Normally a handful of tickets (the background refresher keeps up); bounded so
        # that a bulk import cannot hold one request for minutes.
        refresh_stale(self.engine, limit=self.refresh_limit, config=self.config)
        keys = KEYS[group]
        rows: dict[str | None, Row] = {}
        totals = Row(None, agents=Agents(), self_service=SelfService())
        if self.config.hours is not None:
            totals.tickets.business_timings = _empty_timings()

        def row(key: Any) -> Row:
            name = None if key is None else str(key)
            if name not in rows:
                new = Row(name, agents=Agents() if keys.actions else None)
                new.self_service = SelfService() if keys.answers else None
                if self.config.hours is not None:
                    new.tickets.business_timings = _empty_timings()
                rows[name] = new
            return rows[name]

        spans = split(start, end) if self.use_rollups else Spans(None, [(start, end)])
        with self.engine.connect() as conn:
            tune_planner(conn)
            reader = _Reader(conn, keys, spans)
            for record in reader.sums(
                stats_sql.tickets(keys.tickets),
                "metric_ticket_daily",
                [stats_sql.ROLLUP_TICKETS],
                keys.tickets,
            ):
                _add_tickets(row(record["grp"]).tickets, record)
                _add_tickets(totals.tickets, record)
            self._timings(conn, group, keys.tickets, start, end, row, totals)
            for record in reader.sums(
                stats_sql.drafts(keys.drafts), "metric_draft_daily", _DRAFT_ROLLUP, keys.drafts
            ):
                _add_drafts(row(record["grp"]).drafts, record)
                _add_drafts(totals.drafts, record)
            for record in reader.sums(
                stats_sql.action_counts(keys.actions),
                "metric_action_daily",
                _ACTION_ROLLUP,
                keys.actions,
            ):
                agents = totals.agents if keys.actions is None else row(record["grp"]).agents
                assert agents is not None
                assert totals.agents is not None
                _add(agents, record)
                if keys.actions is not None:
                    _add(totals.agents, record)
            params = {"start": start, "end": end}
            self._touched(conn, group, keys, start, end, row, totals)
            answered = deflection.params(now or utcnow(), self.config.deflection_window)
            for record in _run(conn, deflection.answers_sql(keys.answers), params | answered):
                target = row(record["grp"]).self_service if keys.answers else None
                for section in (target, totals.self_service):
                    if section is not None:
                        _add(section, record)
        for each in (*rows.values(), totals):
            if each.self_service is not None:
                each.self_service.handed_off = each.tickets.self_service_handoffs
        ranked: Literal["exact", "histogram"] = (
            "histogram" if self._bucketing(start, end) else "exact"
        )
        return Stats(start, end, group, totals, _ordered(rows.values()), ranked)

    def _bucketing(self, start: datetime, end: datetime) -> bool:
        return self.use_rollups and end - start > timedelta(days=histogram.EXACT_DAYS)

    def _touched(
        self,
        conn: Connection,
        group: Group,
        keys: Keys,
        start: datetime,
        end: datetime,
        row: Any,
        totals: Row,
    ) -> None:
        """Distinct tickets acted on, per group and in all (not sums of days)."""
        if not self.use_rollups:
            params = {"start": start, "end": end}
            for record in _run(conn, stats_sql.action_tickets(keys.actions), params):
                agents = totals.agents if record["total"] else row(record["grp"]).agents
                assert agents is not None
                agents.tickets = int(record["tickets"])
            return
        assert totals.agents is not None
        totals.agents.tickets = distinct_tickets(conn, group, None, start, end).get(None, 0)
        if keys.actions is not None:
            for grp, count in distinct_tickets(conn, group, keys.actions, start, end).items():
                agents = row(grp).agents
                assert agents is not None
                agents.tickets = count

    def _bucketed(
        self,
        conn: Connection,
        group: Group,
        key: str,
        start: datetime,
        end: datetime,
        row: Any,
        totals: Row,
    ) -> None:
        """Percentiles from the timing histogram (app/operations/metrics/histogram.py)."""
        business = self.config.hours is not None
        groups, overall = histogram.read(conn, group, key, start, end, business)
        places = [(row(grp).tickets, name, counts) for (grp, name), counts in groups.items()]
        places += [(totals.tickets, name, counts) for name, counts in overall.items()]
        for tickets, name, counts in places:
            target = tickets.business_timings if name.startswith("business_") else tickets.timings
            assert target is not None
            p50, p90, p95 = (counts.percentile(p) for p in (50, 90, 95))
            target[name.removeprefix("business_")] = Timing(
                counts.count, p50, p90, p95, counts.max_seconds
            )

    def _timings(
        self,
        conn: Connection,
        group: Group,
        key: str,
        start: datetime,
        end: datetime,
        row: Any,
        totals: Row,
    ) -> None:
        """Exact nearest-rank percentiles over the range's fact rows (wall-clock, and in
        business hours when configured)."""
        if self._bucketing(start, end):
            self._bucketed(conn, group, key, start, end, row, totals)
            return
        dialect = self.engine.dialect.name
        kinds = [("seconds_to_", False)]
        if self.config.hours is not None:
            kinds.append(("business_seconds_to_", True))
        for prefix, business in kinds:
            sql = stats_sql.timings(key, dialect, prefix)
            for record in _run(conn, sql, {"start": start, "end": end}):
                target = totals if record["total"] else row(record["grp"])
                timings = target.tickets.business_timings if business else target.tickets.timings
                assert timings is not None
                timings[record["measure"]] = Timing(
                    int(record["count"]),
                    *(_int(record[p]) for p in ("p50", "p90", "p95", "max")),
                )


class _Reader:
    """One section's sums: whole days from its rollup, the edges from its fact rows."""

    def __init__(self, conn: Connection, keys: Keys, spans: Spans) -> None:
        self.conn = conn
        self.keys = keys
        self.spans = spans

    def sums(
        self, facts_sql: str, rollup: str, columns: list[str], key: str | None
    ) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        if self.spans.days is not None:
            group_by = None if key is None else self.keys.rollup_key
            dimension = self.keys.dimension if key is not None else "all"
            first, last = self.spans.days
            sql = stats_sql.rollup(rollup, columns, group_by)
            records += [
                dict(r)
                for r in self.conn.execute(
                    text(sql),
                    {"dimension": dimension, "first_day": first, "end_day": last},
                ).mappings()
            ]
        for a, b in self.spans.edges:
            records += _run(self.conn, facts_sql, {"start": a, "end": b})
        return records


def _empty_timings() -> dict[str, Timing]:
    return {m: Timing() for m in MEASURES}


def _run(conn: Connection, sql: str, params: dict[str, Any]) -> Sequence[dict[str, Any]]:
    binds = [bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())]
    if ":settled_before" in sql:
        binds.append(bindparam("settled_before", type_=UTCDateTime()))
    statement = text(sql).bindparams(*binds)
    return [dict(r) for r in conn.execute(statement, params).mappings()]


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _add(target: Any, values: dict[str, Any]) -> None:
    for f in fields(target):
        if f.name in values and values[f.name] is not None:
            setattr(target, f.name, getattr(target, f.name) + int(values[f.name]))


def _add_drafts(target: Drafts, record: dict[str, Any]) -> None:
    _add(target, {k: v for k, v in record.items() if k != "cost"})
    if record.get("cost") is not None:
        target.cost = (target.cost or 0.0) + float(record["cost"])


def _add_tickets(target: Tickets, record: dict[str, Any]) -> None:
    if record["tickets"] is None:  # no GROUP BY and no rows
        return
    target.opened += int(record["tickets"])
    target.self_service_handoffs += int(record["self_service"] or 0)
    target.reopened += int(record["reopened"] or 0)
    sla = target.sla
    sla.tracked += int(record["sla_tracked"] or 0)
    sla.breached += int(record["sla_breached"] or 0)
    for clock in ("first_response", "next_response", "resolution"):
        name = f"{clock}_breached"
        setattr(sla, name, getattr(sla, name) + int(record[f"sla_{name}"] or 0))


def _ordered(rows: Iterable[Row]) -> list[Row]:
    """By key (days, weeks and priorities then read in order); no key last."""
    return sorted(rows, key=lambda r: (r.key is None, r.key or ""))
