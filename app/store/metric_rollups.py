"""Daily sums of the metric fact tables, per grouping dimension: what long /v1/stats
ranges read (about one row per day and group instead of every fact row).

One row per UTC day, ``dimension`` (``all``, ``category``, ``priority``, ``channel``,
``team``, ``agent``) and ``key`` (the group's value, ``''`` for none; ``''`` under
``all``).  Only additive measures live here; percentiles and distinct tickets per agent
are read from the fact rows (docs/metrics.md).  Maintained with the facts by
app/operations/metrics/refresh.py; schema owned by migration 0010_deflection.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Double, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.store.models import Base

TICKET_SUMS = (
    "opened",
    "self_service",
    "reopened",
    "sla_tracked",
    "sla_breached",
    "sla_first_response_breached",
    "sla_next_response_breached",
    "sla_resolution_breached",
)
DRAFT_SUMS = (
    "total",
    "approved_unedited",
    "edited",
    "rejected",
    "rewritten",
    "auto_sent",
    "superseded",
    "pending",
    "rewritten_by_hand",
    "edit_distance_total",
    "with_usage",
    "prompt_tokens",
    "completion_tokens",
    "with_cost",
)
ACTION_SUMS = (
    "actions",
    "approvals",
    "edits",
    "rejections",
    "escalations",
    "replies",
    "notes",
    "solves",
    "timed_actions",
    "handle_seconds_total",
    "first_touches",
    "returns_day",
    "returns_week",
)


class MetricTicketDaily(Base):
    __tablename__ = "metric_ticket_daily"
    __table_args__ = (Index("ix_metric_ticket_daily_day", "day"),)

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    week: Mapped[str] = mapped_column(String(10))
    opened: Mapped[int] = mapped_column(BigInteger)
    self_service: Mapped[int] = mapped_column(BigInteger)
    reopened: Mapped[int] = mapped_column(BigInteger)
    sla_tracked: Mapped[int] = mapped_column(BigInteger)
    sla_breached: Mapped[int] = mapped_column(BigInteger)
    sla_first_response_breached: Mapped[int] = mapped_column(BigInteger)
    sla_next_response_breached: Mapped[int] = mapped_column(BigInteger)
    sla_resolution_breached: Mapped[int] = mapped_column(BigInteger)


class MetricDraftDaily(Base):
    __tablename__ = "metric_draft_daily"
    __table_args__ = (Index("ix_metric_draft_daily_day", "day"),)

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    week: Mapped[str] = mapped_column(String(10))
    total: Mapped[int] = mapped_column(BigInteger)
    approved_unedited: Mapped[int] = mapped_column(BigInteger)
    edited: Mapped[int] = mapped_column(BigInteger)
    rejected: Mapped[int] = mapped_column(BigInteger)
    rewritten: Mapped[int] = mapped_column(BigInteger)
    auto_sent: Mapped[int] = mapped_column(BigInteger)
    superseded: Mapped[int] = mapped_column(BigInteger)
    pending: Mapped[int] = mapped_column(BigInteger)
    rewritten_by_hand: Mapped[int] = mapped_column(BigInteger)
    edit_distance_total: Mapped[int] = mapped_column(BigInteger)
    with_usage: Mapped[int] = mapped_column(BigInteger)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    with_cost: Mapped[int] = mapped_column(BigInteger)
    cost: Mapped[float | None] = mapped_column(Double)


class MetricActionDaily(Base):
    __tablename__ = "metric_action_daily"
    __table_args__ = (Index("ix_metric_action_daily_day", "day"),)

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    week: Mapped[str] = mapped_column(String(10))
    actions: Mapped[int] = mapped_column(BigInteger)
    approvals: Mapped[int] = mapped_column(BigInteger)
    edits: Mapped[int] = mapped_column(BigInteger)
    rejections: Mapped[int] = mapped_column(BigInteger)
    escalations: Mapped[int] = mapped_column(BigInteger)
    replies: Mapped[int] = mapped_column(BigInteger)
    notes: Mapped[int] = mapped_column(BigInteger)
    solves: Mapped[int] = mapped_column(BigInteger)
    timed_actions: Mapped[int] = mapped_column(BigInteger)
    handle_seconds_total: Mapped[int] = mapped_column(BigInteger)
    # Distinct tickets are not sums of days: actions that were the ticket's first (for
    # the agent under ``agent``), and those whose previous was on an earlier day / week.
    first_touches: Mapped[int] = mapped_column(BigInteger)
    returns_day: Mapped[int] = mapped_column(BigInteger)
    returns_week: Mapped[int] = mapped_column(BigInteger)


class MetricTimingHistogram(Base):
    """Ticket timings per ISO week, dimension (``all`` with key '') and key, counted per
    bucket (app/operations/metrics/histogram.py): ``counts`` is one little-endian 32-bit
    count per bucket, so a year of one group is 52 rows."""

    __tablename__ = "metric_timing_histogram"

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    week: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    measure: Mapped[str] = mapped_column(String(40), primary_key=True)
    tickets: Mapped[int] = mapped_column(BigInteger)
    max_seconds: Mapped[int] = mapped_column(BigInteger)
    counts: Mapped[bytes] = mapped_column(LargeBinary)


class MetricTimingPercentiles(Base):
    """Exact nearest-rank percentiles of all tickets opened in one UTC day or ISO week."""

    __tablename__ = "metric_timing_percentiles"

    grain: Mapped[str] = mapped_column(String(4), primary_key=True)
    start: Mapped[str] = mapped_column(String(10), primary_key=True)
    measure: Mapped[str] = mapped_column(String(40), primary_key=True)
    week: Mapped[str] = mapped_column(String(10))
    tickets: Mapped[int] = mapped_column(BigInteger)
    p50_seconds: Mapped[int] = mapped_column(BigInteger)
    p90_seconds: Mapped[int] = mapped_column(BigInteger)
    p95_seconds: Mapped[int] = mapped_column(BigInteger)
    max_seconds: Mapped[int] = mapped_column(BigInteger)
