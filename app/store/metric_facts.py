"""Stored copies of three metric views, for statistics over a date range in milliseconds.

``metric_ticket_facts``, ``metric_draft_facts`` and ``metric_action_facts`` hold rows of
``metric_tickets``, ``metric_draft_outcomes`` and ``metric_agent_actions`` as they were
when last refreshed (app/operations/metrics/refresh.py copies them with INSERT … SELECT from
the views, so a fact row is the view row).  Each is refreshed per ticket, whenever the ticket or its
conversation state changed, or a stored SLA due time has passed (``recheck_at``).

Schema owned by migration 0008_metric_views; these classes must match it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Double, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.store.columns import UTCDateTime
from app.store.models import ID_LEN, Base


def _ticket_fk() -> Mapped[str]:
    return mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))


class MetricTicketFact(Base):
    __tablename__ = "metric_ticket_facts"
    __table_args__ = (
        Index("ix_metric_ticket_facts_created_at", "created_at"),
        Index("ix_metric_ticket_facts_recheck_at", "recheck_at"),
        Index("ix_metric_ticket_facts_refreshed_at", "refreshed_at"),
        Index("ix_metric_ticket_facts_day", "day"),
        Index("ix_metric_ticket_facts_week", "week"),
        Index("ix_metric_ticket_facts_config_tag", "config_tag"),
    )

    ticket_id: Mapped[str] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    day: Mapped[str] = mapped_column(String(10))
    week: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(8))
    team: Mapped[str | None] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(200))
    self_service: Mapped[int] = mapped_column(Integer)
    reopens: Mapped[int] = mapped_column(Integer)
    seconds_to_first_draft: Mapped[int | None] = mapped_column(BigInteger)
    seconds_to_first_response: Mapped[int | None] = mapped_column(BigInteger)
    seconds_to_approval: Mapped[int | None] = mapped_column(BigInteger)
    seconds_to_resolution: Mapped[int | None] = mapped_column(BigInteger)
    sla_tracked: Mapped[int] = mapped_column(Integer)
    sla_breached: Mapped[int | None] = mapped_column(Integer)
    sla_first_response_breached: Mapped[int | None] = mapped_column(Integer)
    sla_next_response_breached: Mapped[int | None] = mapped_column(Integer)
    sla_resolution_breached: Mapped[int | None] = mapped_column(Integer)
    # The four timings in TRIAGE_BUSINESS_HOURS (computed in Python at refresh,
    # app/operations/metrics/business.py); NULL when none are configured.
    business_seconds_to_first_draft: Mapped[int | None] = mapped_column(BigInteger)
    business_seconds_to_first_response: Mapped[int | None] = mapped_column(BigInteger)
    business_seconds_to_approval: Mapped[int | None] = mapped_column(BigInteger)
    business_seconds_to_resolution: Mapped[int | None] = mapped_column(BigInteger)
    # The metric settings (business hours, prices) the row was computed under: a row
    # with another tag is stale (app/operations/metrics/config.py).
    config_tag: Mapped[str] = mapped_column(String(16), server_default="")
    # What the row was computed from: a change to either makes it stale.
    ticket_updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The next stored SLA due time still ahead at refresh: the flags may change then.
    recheck_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MetricDraftFact(Base):
    __tablename__ = "metric_draft_facts"
    __table_args__ = (
        Index("ix_metric_draft_facts_created_at", "created_at"),
        Index("ix_metric_draft_facts_ticket_id", "ticket_id"),
        Index("ix_metric_draft_facts_day", "day"),
    )

    draft_id: Mapped[str] = mapped_column(
        ForeignKey("drafts.id", ondelete="CASCADE"), primary_key=True
    )
    ticket_id: Mapped[str] = _ticket_fk()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    day: Mapped[str] = mapped_column(String(10))
    week: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(8))
    team: Mapped[str | None] = mapped_column(String(64))
    drafter: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(20))
    rewritten_by_hand: Mapped[int] = mapped_column(Integer)
    edit_distance: Mapped[int | None] = mapped_column(Integer)
    reviewer_name: Mapped[str | None] = mapped_column(String(200))
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    total_tokens: Mapped[int | None] = mapped_column(Integer)
    # Tokens priced with TRIAGE_LLM_PRICE_PER_MTOK_INPUT/_OUTPUT; NULL when a price or
    # the draft's token counts are unknown (migration 0010_deflection).
    cost: Mapped[float | None] = mapped_column(Double)


class MetricActionFact(Base):
    __tablename__ = "metric_action_facts"
    __table_args__ = (
        Index("ix_metric_action_facts_at", "at"),
        Index("ix_metric_action_facts_ticket_id", "ticket_id"),
        # An agent's previous and next action (the gaps, app/operations/metrics/refresh.py).
        Index("ix_metric_action_facts_agent_at", "agent", "at", "action_id"),
        Index("ix_metric_action_facts_day", "day"),
        Index("ix_metric_action_facts_prev_ticket_at", "prev_ticket_at"),
        Index("ix_metric_action_facts_prev_agent_at", "prev_agent_at"),
    )

    # The review event's or conversation message's id.
    action_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    ticket_id: Mapped[str] = _ticket_fk()
    agent: Mapped[str] = mapped_column(String(320))
    agent_name: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Whole seconds since 1970 (as the views count them): gaps are integer arithmetic.
    at_epoch: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[str] = mapped_column(String(10))
    week: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(32))
    # Seconds since the same agent's previous action (ordered by ``at``, then id), as
    # metric_agent_handle_times computes it; NULL for an agent's first.
    gap_seconds: Mapped[int | None] = mapped_column(BigInteger)
    # The same ticket's previous action, by anyone and by the same agent (ordered by
    # ``at``, then id); NULL for the first (migration 0010_deflection).
    prev_ticket_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    prev_agent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
