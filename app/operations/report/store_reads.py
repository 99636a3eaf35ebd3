"""What the weekly report needs from the store, read with SQLAlchemy on either database.

Plain selects of the rows, aggregated in Python: the date arithmetic (days, weeks, hours
in UTC) and the SLA clocks (app/conversations/sla.py, business hours included) are then
the same code on SQLite and PostgreSQL, and nothing here depends on the SQL views other
work adds.  A ticket is counted on the UTC day it was created, under its current
(agent-corrected) category, channel and priority.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.conversations.policy import SlaPolicy
from app.conversations.sla import SlaState, compute
from app.conversations.view import REPLIED, Entry, sla_events
from app.store.conversations import TicketMessage
from app.store.models import AuditLog, Draft, ReviewEvent, Ticket

AGENT_DRAFTER = "agent"  # provenance of a reply an agent wrote by hand (conversations)


@dataclass(frozen=True)
class TicketRow:
    id: str
    created_at: datetime
    category: str
    channel: str
    priority: str
    status: str


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def load_tickets(session: Session, start: date, end: date) -> list[TicketRow]:
    """Tickets created in [start, end) (UTC days)."""
    rows = session.execute(
        select(
            Ticket.id,
            Ticket.created_at,
            Ticket.category,
            Ticket.channel,
            Ticket.priority,
            Ticket.status,
        )
        .where(Ticket.created_at >= midnight(start), Ticket.created_at < midnight(end))
        .order_by(Ticket.created_at)
    ).all()
    return [
        TicketRow(r.id, r.created_at, r.category or "unknown", r.channel, r.priority, r.status)
        for r in rows
    ]


def history_bounds(session: Session) -> tuple[date, date] | None:
    """The first and last UTC day with a ticket, or None for an empty store."""
    first = session.scalar(select(Ticket.created_at).order_by(Ticket.created_at).limit(1))
    last = session.scalar(select(Ticket.created_at).order_by(Ticket.created_at.desc()).limit(1))
    if first is None or last is None:
        return None
    return first.date(), last.date()


def daily_counts(
    rows: Iterable[TicketRow], start: date, end: date, key: str | None = None
) -> dict[str, list[int]]:
    """Per-day counts over [start, end); by the attribute ``key`` (or one "all" series)."""
    days = (end - start).days
    series: dict[str, list[int]] = defaultdict(lambda: [0] * days)
    for row in rows:
        index = (row.created_at.date() - start).days
        if 0 <= index < days:
            series["all" if key is None else str(getattr(row, key))][index] += 1
    return dict(series)


def hourly_profile(rows: Iterable[TicketRow], *, smoothing: float = 0.5) -> list[list[float]]:
    """Share of a day's arrivals per UTC hour, for each weekday: profile[weekday][hour].

    Weekdays are pooled together, and so are Saturday and Sunday: four weeks of one
    weekday alone leave quiet hours at zero by chance (and an hour with no forecast
    tickets would get no agent).  ``smoothing`` tickets are added to every hour for the
    same reason."""
    counts = {False: [smoothing] * 24, True: [smoothing] * 24}  # keyed by "weekend?"
    for row in rows:
        counts[row.created_at.weekday() >= 5][row.created_at.hour] += 1
    shares = {kind: [c / sum(hours) for c in hours] for kind, hours in counts.items()}
    return [shares[weekday >= 5] for weekday in range(7)]


# -- SLA ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaOutcome:
    ticket_id: str
    priority: str
    created_at: datetime
    state: SlaState
    first_response_minutes: float | None


def sla_outcomes(
    session: Session, rows: Sequence[TicketRow], policy: SlaPolicy, now: datetime
) -> list[SlaOutcome]:
    """Each ticket's SLA clocks at ``now``, from its conversation as the console shows it
    (its merged duplicates' messages are not added)."""
    if not rows:
        return []
    first, last = rows[0].created_at, rows[-1].created_at + timedelta(microseconds=1)
    in_range = (Ticket.created_at >= first) & (Ticket.created_at < last)
    entries: dict[str, list[Entry]] = defaultdict(list)
    written: set[str] = set()
    for m in session.execute(
        select(
            TicketMessage.id,
            TicketMessage.ticket_id,
            TicketMessage.kind,
            TicketMessage.created_at,
            TicketMessage.event,
            TicketMessage.draft_id,
        )
        .join(Ticket, Ticket.id == TicketMessage.ticket_id)
        .where(in_range)
    ):
        entries[m.ticket_id].append(
            Entry(m.id, m.ticket_id, m.kind, None, "", m.created_at, m.event, m.draft_id)
        )
        if m.draft_id:
            written.add(m.draft_id)
    for d in session.execute(
        select(Draft.id, Draft.ticket_id, Draft.approved_at, Draft.created_at)
        .join(Ticket, Ticket.id == Draft.ticket_id)
        .where(in_range, Draft.status.in_(REPLIED))
    ):
        if d.id not in written:
            entries[d.ticket_id].append(
                Entry(d.id, d.ticket_id, "agent", None, "", d.approved_at or d.created_at)
            )
    out = []
    for row in rows:
        mine = entries.get(row.id, [])
        if not any(e.kind == "customer" for e in mine):
            mine.append(Entry(f"msg_{row.id}", row.id, "customer", None, "", row.created_at))
        mine.sort(key=lambda e: (e.created_at, e.id))
        state = compute(
            policy.for_priority(row.priority), row.created_at, sla_events(mine, row.id), now
        )
        replied = state.first_response.met_at
        minutes = (replied - row.created_at).total_seconds() / 60 if replied else None
        out.append(SlaOutcome(row.id, row.priority, row.created_at, state, minutes))
    return out


# -- drafts and agents -------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    at: datetime
    outcome: str  # approved, edited, rejected, escalated, handwritten
    reason: str | None = None
    edit_distance: int | None = None


def decisions(session: Session, start: date, end: date) -> list[Decision]:
    """Review decisions on drafts, and replies written by hand, in [start, end)."""
    lo, hi = midnight(start), midnight(end)
    names = {"approve": "approved", "edit": "edited", "reject": "rejected"}
    names |= {"escalate": "escalated"}
    out = [
        Decision(r.created_at, names[r.action], r.reason_code, r.edit_distance)
        for r in session.execute(
            select(
                ReviewEvent.created_at,
                ReviewEvent.action,
                ReviewEvent.reason_code,
                ReviewEvent.edit_distance,
                Draft.provenance,
            )
            .join(Draft, Draft.id == ReviewEvent.draft_id, isouter=True)
            .where(ReviewEvent.created_at >= lo, ReviewEvent.created_at < hi)
        )
        if r.action in names
        # An agent's own reply is approved by them as it is written: not a draft decision.
        and (r.provenance or {}).get("drafter") != AGENT_DRAFTER
    ]
    for when, provenance in session.execute(
        select(Draft.approved_at, Draft.provenance).where(
            Draft.approved_at >= lo, Draft.approved_at < hi, Draft.status.in_(REPLIED)
        )
    ):
        if (provenance or {}).get("drafter") == AGENT_DRAFTER:
            out.append(Decision(when, "handwritten"))
    return sorted(out, key=lambda d: d.at)


def handle_minutes(session: Session, start: date, end: date) -> list[float]:
    """Minutes from an agent's taking (or being given) a ticket to the reply they sent,
    for replies in [start, end): the measured handle time."""
    lo, hi = midnight(start) - timedelta(days=7), midnight(end)
    events = session.execute(
        select(
            AuditLog.ticket_id,
            AuditLog.action,
            AuditLog.actor,
            AuditLog.detail,
            AuditLog.created_at,
        )
        .where(
            AuditLog.action.in_(("ticket_assigned", "draft_approved")),
            AuditLog.created_at >= lo,
            AuditLog.created_at < hi,
        )
        .order_by(AuditLog.ticket_id, AuditLog.created_at, AuditLog.id)
    ).all()
    assigned: dict[tuple[str, str], datetime] = {}
    out = []
    for e in events:
        if e.action == "ticket_assigned":
            to = (e.detail or {}).get("to")
            if isinstance(to, str):
                assigned[(e.ticket_id, to)] = e.created_at
            continue
        name = e.actor.split(":", 1)[-1]
        since = assigned.pop((e.ticket_id, name), None)
        if since is not None and e.created_at >= midnight(start):
            out.append((e.created_at - since).total_seconds() / 60)
    return out


def counts_by_week(items: Iterable[tuple[date, str]]) -> dict[date, Counter[str]]:
    weeks: dict[date, Counter[str]] = defaultdict(Counter)
    for day, name in items:
        weeks[week_start(day)][name] += 1
    return dict(weeks)
