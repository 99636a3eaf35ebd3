"""The body of GET /v1/stats (built from app/operations/metrics/stats.py's dataclasses)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.operations.metrics.stats_sql import Group

_FROM_ATTRIBUTES = ConfigDict(from_attributes=True)


class TimingOut(BaseModel):
    """Whole seconds from the ticket's opening; nearest-rank percentiles."""

    model_config = _FROM_ATTRIBUTES

    count: int = Field(description="Tickets for which it happened.")
    p50_seconds: int | None
    p90_seconds: int | None
    p95_seconds: int | None
    max_seconds: int | None


class SlaOut(BaseModel):
    model_config = _FROM_ATTRIBUTES

    tracked: int = Field(description="Tickets with SLA clocks (a conversation state).")
    breached: int = Field(description="Tracked tickets with any clock breached.")
    first_response_breached: int
    next_response_breached: int
    resolution_breached: int
    attainment: float | None = Field(description="(tracked - breached) / tracked.")


class TicketsOut(BaseModel):
    model_config = _FROM_ATTRIBUTES

    opened: int
    self_service_handoffs: int = Field(description="Questions /v1/ask handed to an agent.")
    reopened: int = Field(description="Tickets reopened after being solved.")
    sla: SlaOut
    timings: dict[str, TimingOut] = Field(
        description="first_draft, first_response, approval, resolution."
    )
    business_timings: dict[str, TimingOut] | None = Field(
        description="The same four, counting only TRIAGE_BUSINESS_HOURS; null when none "
        "are configured."
    )


class DraftsOut(BaseModel):
    model_config = _FROM_ATTRIBUTES

    total: int = Field(description="Pipeline drafts written (not agents' own replies).")
    approved_unedited: int
    edited: int
    rejected: int
    rewritten: int = Field(description="Replaced by an agent's own reply without a decision.")
    auto_sent: int
    superseded: int = Field(description="Replaced by a newer pipeline draft.")
    pending: int
    rewritten_by_hand: int = Field(description="Rejected or rewritten, then answered by hand.")
    reviewed: int = Field(description="approved_unedited + edited + rejected + rewritten.")
    acceptance_rate: float | None = Field(description="(approved_unedited + edited) / reviewed.")
    unedited_rate: float | None = Field(description="approved_unedited / reviewed.")
    edit_distance_mean: float | None = Field(description="Mean Levenshtein distance of edits.")
    with_usage: int = Field(description="Drafts whose provenance records token counts (LLM).")
    prompt_tokens: int
    completion_tokens: int
    with_cost: int = Field(
        description="Drafts whose cost is known (token counts recorded, both "
        "TRIAGE_LLM_PRICE_PER_MTOK_* prices configured)."
    )
    cost: float | None = Field(description="Their summed cost; null when none is known.")
    cost_per_draft: float | None = Field(description="cost / with_cost.")


class SelfServiceOut(BaseModel):
    model_config = _FROM_ATTRIBUTES

    answered: int = Field(description="Questions /v1/ask answered itself (no ticket).")
    helpful: int = Field(description="Answers the asker said helped.")
    didnt_help: int = Field(description="Answers the asker said did not help.")
    handed_off: int = Field(description="Questions /v1/ask handed to an agent (tickets).")
    asker_known: int = Field(description="Answers whose asker id was sent (the /help page).")
    settled: int = Field(
        description="Answers with a known asker whose deflection window "
        "(TRIAGE_DEFLECTION_WINDOW_HOURS) has passed."
    )
    deflected: int = Field(
        description="Settled answers not marked unhelpful after which the asker opened no "
        "ticket within the window."
    )
    deflection_rate: float | None = Field(description="deflected / settled.")


class AgentsOut(BaseModel):
    model_config = _FROM_ATTRIBUTES

    actions: int
    tickets: int = Field(description="Distinct tickets acted on.")
    approvals: int
    edits: int
    rejections: int
    escalations: int
    replies: int
    notes: int
    solves: int
    timed_actions: int
    handle_seconds_total: int
    handle_seconds_mean: float | None = Field(
        description="Mean gap to the agent's previous action, gaps over 30 min left out."
    )


class StatsRowOut(BaseModel):
    model_config = _FROM_ATTRIBUTES

    key: str | None = Field(description="The group's value (a day, a week's Monday, …).")
    tickets: TicketsOut
    drafts: DraftsOut
    agents: AgentsOut | None = Field(
        description="Only grouped by day, week and agent; always in the totals."
    )
    self_service: SelfServiceOut | None = Field(
        description="Only grouped by day, week and category; always in the totals."
    )


class StatsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    from_: datetime = Field(serialization_alias="from", validation_alias="start")
    to: datetime = Field(validation_alias="end")
    group: Group
    totals: StatsRowOut
    groups: list[StatsRowOut]
    percentiles: Literal["exact", "histogram"] = Field(
        description="How timing percentiles were ranked: `exact` over every timing (ranges "
        "up to 31 days), or `histogram` over buckets 2^(1/4) wide (longer ranges; within "
        "11 % of the exact value; counts and maxima stay exact)."
    )


class ForecastDayOut(BaseModel):
    model_config = _FROM_ATTRIBUTES

    day: date
    point: float = Field(description="Tickets expected (the forecast's median).")
    lower: float = Field(description="Lower bound of the interval, whole tickets.")
    upper: float = Field(description="Upper bound of the interval, whole tickets.")


class ForecastOut(BaseModel):
    model_config = _FROM_ATTRIBUTES

    status: Literal["ok", "short_history", "no_history"] = Field(
        description="`ok`: `days` holds the forecast; `short_history`: fewer than "
        "`min_history_days` complete days of tickets; `no_history`: no ticket yet."
    )
    start: date = Field(description="The first forecast day (today, UTC).")
    horizon: int
    level: float = Field(description="Coverage the intervals aim at (0.8).")
    history_start: date | None = Field(description="The first day the model was fitted on.")
    history_days: int = Field(description="Complete UTC days of history before `start`.")
    min_history_days: int
    model: str | None = Field(description="The ETS model chosen (by AICc); null when none.")
    days: list[ForecastDayOut]
