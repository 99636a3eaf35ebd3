"""Operations statistics for agents and admins (app/operations/metrics/stats.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from app.api.deps import Reviewer, ServicesDep
from app.api.routes.responses import problems
from app.api.stats_schemas import ForecastOut, StatsOut
from app.operations.metrics.config import MetricsConfig
from app.operations.metrics.stats import StatsService
from app.operations.metrics.stats_sql import Group
from app.operations.metrics.volume_forecast import HORIZONS, volume_forecast

router = APIRouter(tags=["stats"])

DEFAULT_SPAN = timedelta(days=30)
# Far enough for any real report; bounded so date arithmetic cannot overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


async def get_stats_service(services: ServicesDep) -> StatsService:
    return StatsService(
        services.runtime.engine, config=MetricsConfig.from_settings(services.settings)
    )


StatsServiceDep = Annotated[StatsService, Depends(get_stats_service)]


def _invalid(name: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"type": "value_error", "loc": ("query", name), "msg": message}])


def _instant(name: str, raw: str, *, end_of_day: bool) -> datetime:
    """A date (its midnight; with ``end_of_day`` the next one) or an ISO 8601 instant."""
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            moment = datetime.combine(day, time(), tzinfo=UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise _invalid(name, "use a date (YYYY-MM-DD) or an ISO 8601 time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def date_range(start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    until = _instant("to", end, end_of_day=True) if end else now
    since = _instant("from", start, end_of_day=False) if start else until - DEFAULT_SPAN
    for name, value in (("from", since), ("to", until)):
        if not EARLIEST <= value <= LATEST:
            raise _invalid(name, "must lie between 1970-01-01 and 9999-01-01")
    if since >= until:
        raise _invalid("from", "must be before 'to'")
    return since, until


@router.get(
    "/v1/stats",
    response_model=StatsOut,
    summary="Operations metrics over a date range, grouped one way",
    description=(
        "Tickets opened, drafts written and agent actions taken in [from, to), from the "
        "store's metric views (docs/metrics.md). `from`/`to`: a date (`to` then includes "
        "that whole day) or an ISO 8601 time, UTC unless an offset is given; default the "
        "last 30 days. `group`: day or week (UTC; a week is named by its Monday), "
        "category, priority, channel, team, or agent (tickets by assignee, drafts by "
        "reviewer, actions by who took them). Timings are whole seconds from the ticket's "
        "opening with nearest-rank percentiles."
    ),
    responses=problems(401, 403, 422),
)
def stats(
    principal: Reviewer,
    service: StatsServiceDep,
    group: Annotated[Group, Query(description="How to group the rows.")] = "day",
    start: Annotated[
        str | None,
        Query(alias="from", max_length=40, examples=["2026-11-01"], description="Start."),
    ] = None,
    end: Annotated[
        str | None,
        Query(alias="to", max_length=40, examples=["2026-11-30"], description="End."),
    ] = None,
) -> Response:
    since, until = date_range(start, end, datetime.now(UTC))
    result = service.stats(since, until, group)
    body = StatsOut.model_validate(result)
    return Response(body.model_dump_json(by_alias=True).encode(), media_type="application/json")


@router.get(
    "/v1/stats/forecast",
    response_model=ForecastOut,
    summary="Ticket volume forecast for the next days, with its 80 % interval",
    description=(
        "The weekly report's ETS model (on square-rooted daily counts, weekly season) fitted "
        "on the complete UTC days before today (at most 26 weeks), forecasting `days` days "
        "from today. Needs two weeks of history (`status` says when there is less). A "
        "separate call from GET /v1/stats because a fit costs far more than the metrics: "
        "fits are cached per process until the history changes (a new day)."
    ),
    responses=problems(401, 403, 422),
)
def stats_forecast(
    principal: Reviewer,
    services: ServicesDep,
    days: Annotated[
        int,
        Query(ge=HORIZONS.start, le=HORIZONS.stop - 1, description="Days to forecast."),
    ] = 14,
) -> Response:
    today = datetime.now(UTC).date()
    config = MetricsConfig.from_settings(services.settings)
    result = volume_forecast(services.runtime.engine, today, horizon=days, config=config)
    body = ForecastOut.model_validate(result)
    return Response(body.model_dump_json().encode(), media_type="application/json")
