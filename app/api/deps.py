"""Dependencies: the services built in the lifespan, auth, roles, idempotency keys.

Everything a route needs arrives through these typed aliases; nothing is a module
global, so several apps (tests, benchmarks) can live in one process.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.api.auth import TokenAuthenticator
from app.api.problems import ProblemError
from app.api.ratelimit import TokenBucketLimiter
from app.conversations.service import ConversationService
from app.observability import Metrics
from app.services.insights import InsightsService
from app.services.review import ReviewService
from app.services.runtime import Runtime
from app.services.tickets import TicketService
from app.services.workers import BackgroundWorkers
from app.settings import Settings
from app.slack.receiver import SlackReceiver
from app.store.api_tokens import Principal
from app.store.idempotency import MAX_KEY_LENGTH
from app.store.models import ID_LEN, Role


@dataclass
class Services:
    """What the lifespan builds and stores on ``app.state.services``."""

    settings: Settings
    runtime: Runtime
    metrics: Metrics
    tickets: TicketService
    review: ReviewService
    auth: TokenAuthenticator
    ask_limiter: TokenBucketLimiter
    # "Did this help?" verdicts: their own budget, so answering one costs no question.
    feedback_limiter: TokenBucketLimiter
    workers: BackgroundWorkers | None
    slack: SlackReceiver
    conversations: ConversationService
    insights: InsightsService


# Trivial dependencies are `async def` on purpose: FastAPI runs a plain `def` dependency
# in the thread pool, a thread hop per dependency per request.
async def get_services(request: Request) -> Services:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise ProblemError(
            503, "The service is starting up; retry shortly.", headers={"Retry-After": "1"}
        )
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_ticket_service(services: ServicesDep) -> TicketService:
    return services.tickets


async def get_review_service(services: ServicesDep) -> ReviewService:
    return services.review


async def get_conversation_service(services: ServicesDep) -> ConversationService:
    return services.conversations


async def get_settings(services: ServicesDep) -> Settings:
    return services.settings


def get_session(services: ServicesDep) -> Iterator[Session]:
    with services.runtime.sessions() as session:
        yield session


TicketServiceDep = Annotated[TicketService, Depends(get_ticket_service)]
ReviewServiceDep = Annotated[ReviewService, Depends(get_review_service)]
ConversationServiceDep = Annotated[ConversationService, Depends(get_conversation_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


# -- Slack --------------------------------------------------------------------------------
# Not ServicesDep: before start-up (or in an app without the lifespan) the endpoint says
# that Slack is not configured, not that the service is starting.  Tests wire their own
# receiver through ``app.dependency_overrides[get_slack_receiver]``.
async def get_slack_receiver(request: Request) -> SlackReceiver | None:
    services: Services | None = getattr(request.app.state, "services", None)
    return services.slack if services is not None else None


SlackReceiverDep = Annotated[SlackReceiver | None, Depends(get_slack_receiver)]

bearer_scheme = HTTPBearer(
    auto_error=False,
    bearerFormat="trg_…",
    description="An API token from `triage tokens create` or POST /v1/tokens.",
)


async def get_principal(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    if credentials is None:
        raise ProblemError(
            401,
            "Send an API token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="triage"'},
        )
    token = credentials.credentials
    principal = services.auth.cached(token) or await run_in_threadpool(
        services.auth.authenticate, token
    )
    if principal is None:
        raise ProblemError(
            401,
            "The API token is unknown or revoked.",
            headers={"WWW-Authenticate": 'Bearer realm="triage", error="invalid_token"'},
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    allowed = ", ".join(roles)

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise ProblemError(
                403,
                f"This action needs one of the roles: {allowed}; the token has {principal.role!r}.",
            )
        return principal

    return check


Reviewer = Annotated[Principal, Depends(require_roles("agent", "admin"))]
Creator = Annotated[Principal, Depends(require_roles("integration", "agent", "admin"))]
Admin = Annotated[Principal, Depends(require_roles("admin"))]

_KEY_DESCRIPTION = (
    "A unique value per logical request (a UUID). Retrying with the same key and body "
    "replays the first response byte for byte; the same key with another body is a 422; "
    "while the first request runs, a retry gets 409."
)
RequiredKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        description=_KEY_DESCRIPTION,
        examples=["9f1c2b3a-5d6e-4f70-8a91-b2c3d4e5f601"],
    ),
]
OptionalKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        description="Optional here. " + _KEY_DESCRIPTION,
    ),
]


# Ids are prefixed ULIDs (app/store/ids.py); anything else cannot name a row.
ID_PATTERN = rf"^[A-Za-z0-9_]{{1,{ID_LEN}}}$"
# For free-text query parameters that reach SQL: PostgreSQL text cannot hold U+0000.
NO_NUL_PATTERN = r"^[^\x00]*$"
TicketId = Annotated[str, Path(pattern=ID_PATTERN, examples=["tkt_01JD3V6Y7Q8W9E0R1T2Y3U4I5O"])]
DraftId = Annotated[str, Path(pattern=ID_PATTERN, examples=["drf_01JD3V6Y7Q8W9E0R1T2Y3U4I5O"])]
TokenId = Annotated[str, Path(pattern=ID_PATTERN, examples=["tok_01JD3V6Y7Q8W9E0R1T2Y3U4I5O"])]


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]
