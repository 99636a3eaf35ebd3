"""Operations insights for support leads: knowledge gaps and draft calibration."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Query

from app.api.deps import Reviewer, ServicesDep
from app.api.problems import ProblemError
from app.api.routes.responses import problems
from app.operations.gaps.report import GapReport
from app.services.insights import CalibrationReport

router = APIRouter(prefix="/v1", tags=["insights"])

Since = Annotated[
    datetime | None,
    Query(
        description="ISO date or date-time (UTC when no offset is given).",
        examples=["2026-11-01"],
    ),
]
# Questions older than this are not support history; dates before it are typos.
_EARLIEST_YEAR = 2000


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@router.get(
    "/gaps",
    response_model=GapReport,
    summary="Knowledge gaps: what the docs did not answer, by topic",
    description=(
        "Questions handed off because the docs did not cover them, self-service answers "
        "that did not help, and drafts rejected as inaccurate or incomplete, clustered by "
        "topic and ranked by how many were asked since `since` (default: the last "
        "TRIAGE_GAPS_PERIOD_DAYS days). Each topic has its trend against the period of the "
        "same length before, example questions (redacted), the nearest doc sections, its "
        "`kind` (`retrieval_miss`: a close doc section exists; `docs_gap`: none) and its "
        "tickets."
    ),
    responses=problems(401, 403, 422),
)
async def gaps(
    services: ServicesDep,
    _: Reviewer,
    since: Since = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> GapReport:
    start = _utc(since)
    if start is not None and start >= datetime.now(UTC):
        raise ProblemError(422, "`since` must be in the past.")
    if start is not None and start.year < _EARLIEST_YEAR:
        raise ProblemError(422, f"`since` must be in {_EARLIEST_YEAR} or later.")
    # Embedding and clustering are CPU work: off the event loop, within the pipeline limit.
    return await anyio.to_thread.run_sync(
        partial(services.insights.gaps, start, limit=limit), limiter=services.tickets.limiter
    )


@router.get(
    "/calibration",
    response_model=CalibrationReport,
    summary="Draft confidence against review outcome, and earned auto-send per category",
    description=(
        "Reliability-diagram data per category: agents' verdicts on drafts that did not hand "
        "off, binned by draft confidence, with the share approved unedited in each bin, ECE "
        "and Brier score. `autosend`: each category the auto-send policy governs, its mode "
        "(shadow, on; off when no longer listed), the figures it stands on and how the "
        "would-have-sent decisions compared with the agents' verdicts."
    ),
    responses=problems(401, 403, 422),
)
def calibration(
    services: ServicesDep,
    _: Reviewer,
    since: Since = None,
    until: Since = None,
) -> CalibrationReport:
    return services.insights.calibration(_utc(since), _utc(until))
