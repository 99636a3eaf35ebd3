"""The FastAPI application: ``create_app(settings)`` and its lifespan.

Start-up (lifespan): connect the store and migrate it to head (safe when several
processes start at once, see services/runtime.py), load the knowledge base and the
triage pipeline, and start the background workers (drafting, outbox) unless
``TRIAGE_RUN_WORKERS=false``.  Shutdown stops the workers, then closes the pool.
Nothing happens at import time; ``uvicorn --factory app.api:create_app`` builds the app
from the environment.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.answers.build import build_reusable_answers
from app.api.auth import TokenAuthenticator
from app.api.deps import Services
from app.api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from app.api.problems import PROBLEM_JSON, install_problem_handlers
from app.api.ratelimit import TokenBucketLimiter
from app.api.system_schemas import Problem
from app.conversations.build import build_conversations
from app.conversations.clocks import SlaClocks
from app.conversations.policy import load_sla_policy
from app.knowledge import KnowledgeBase
from app.observability import Metrics, configure_logging
from app.services.delivery import build_sender
from app.services.insights import InsightsService
from app.services.mailer import build_email_sender
from app.services.review import ReviewService
from app.services.runtime import Pipeline, build_runtime
from app.services.tickets import TicketService
from app.services.workers import BackgroundWorkers
from app.settings import Settings, get_settings
from app.slack.receiver import build_receiver
from app.slack.sender import build_slack_sender

API_VERSION = "1.0.0"

DESCRIPTION = """\
Support triage for developer-facing APIs: incoming questions are screened (secrets
redacted before anything is stored), classified and answered with a grounded draft that
an agent approves, edits or rejects.

**Auth**: `Authorization: Bearer <token>` (`triage tokens create`). Roles: `integration`
creates tickets, `agent` reviews, `admin` does everything. `/v1/ask`, `/healthz` and
`/metrics` are public.

**Errors** are `application/problem+json` (RFC 9457) with a stable `type` URN.

**Retries**: approve, reject and an agent's reply need an `Idempotency-Key` header;
creating, escalating and other messages accept one. Same key and body replays the first
response byte for byte (marked `Idempotent-Replayed: true`); the same key with another
body is a 422, and a retry while the first request still runs is a 409.
"""

TAGS = [
    {"name": "tickets", "description": "Create tickets and read them with their drafts."},
    {"name": "review", "description": "The agent's queue and decisions on drafts."},
    {
        "name": "conversations",
        "description": "Follow-ups, replies, notes and the agent's workflow on a ticket.",
    },
    {"name": "knowledge", "description": "Search the documentation the drafts cite."},
    {"name": "stats", "description": "Operations metrics (agent, admin)."},
    {"name": "public", "description": "The self-service widget (no token, rate-limited)."},
    {"name": "insights", "description": "Knowledge gaps and draft calibration (agent, admin)."},
    {"name": "tokens", "description": "API tokens (admin)."},
    {"name": "system", "description": "Health and metrics."},
]

# Fields whose upper bound is a setting (TRIAGE_MAX_MESSAGE_CHARS), patched into the
# generated schema so clients and schemathesis see the real limit.
_MESSAGE_FIELDS = {
    "TicketCreate": "message",
    "AskRequest": "question",
    "ApproveRequest": "text",
    "MessageCreate": "text",
}


def _request_threads(settings: Settings, dialect: str) -> int:
    if settings.request_threads is not None:
        return settings.request_threads
    # More threads only add GIL hand-offs when every step is local CPU work (SQLite);
    # a database across the network leaves threads waiting, so more of them pay off.
    return 2 if dialect == "sqlite" else 8


def _lifespan(
    settings: Settings,
    metrics: Metrics,
    kb: KnowledgeBase | None,
    pipeline: Pipeline | None,
) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await anyio.to_thread.run_sync(
            partial(build_runtime, settings, kb=kb, pipeline=pipeline)
        )
        anyio.to_thread.current_default_thread_limiter().total_tokens = _request_threads(
            settings, runtime.engine.dialect.name
        )
        workers: BackgroundWorkers | None = None
        try:
            clocks = SlaClocks(load_sla_policy(settings.sla_policy_path))
            if settings.run_workers:
                sender = build_sender(
                    build_slack_sender(settings), build_email_sender(settings, runtime.sessions)
                )
                workers = BackgroundWorkers(runtime, metrics, sender, clocks=clocks)
            tickets = TicketService(
                runtime,
                metrics,
                pipeline_limiter=anyio.CapacityLimiter(settings.pipeline_concurrency),
                wake_drafting=workers.wake_drafting if workers else lambda: None,
                wake_outbox=workers.wake_outbox if workers else lambda: None,
                clocks=clocks,
            )
            conversations = build_conversations(
                settings, runtime, tickets.wake_outbox, tickets.wake_drafting, clocks.policy
            )
            app.state.services = Services(
                settings=settings,
                runtime=runtime,
                metrics=metrics,
                tickets=tickets,
                review=ReviewService(
                    runtime.sessions,
                    metrics,
                    wake_outbox=tickets.wake_outbox,
                    answers=build_reusable_answers(settings, runtime.kb, runtime.sessions),
                    clocks=clocks,
                ),
                auth=TokenAuthenticator(runtime.sessions, ttl=settings.auth_cache_seconds),
                ask_limiter=TokenBucketLimiter(settings.public_ask_rate_per_minute),
                feedback_limiter=TokenBucketLimiter(settings.ask_feedback_rate_per_minute),
                workers=workers,
                slack=build_receiver(settings, tickets, conversations),
                conversations=conversations,
                insights=InsightsService(runtime),
            )
            metrics.watch_queue(runtime.queue_depth)
            if workers is not None:
                workers.start()
            # Models, the lexical index and imported libraries are millions of long-lived
            # objects; frozen, the collector stops rescanning them, which otherwise stalls
            # every request in flight for ~100 ms at each full collection.
            gc.freeze()
            yield
        finally:
            app.state.services = None
            if workers is not None:
                await anyio.to_thread.run_sync(workers.stop)
            metrics.unwatch_queue()
            runtime.close()

    return lifespan


def create_app(
    settings: Settings | None = None,
    *,
    kb: KnowledgeBase | None = None,
    pipeline: Pipeline | None = None,
) -> FastAPI:
    """The review service.  ``kb``/``pipeline`` let tests and benchmarks share one
    loaded model between apps; a server leaves them out and builds its own."""
    from app.api import web
    from app.api.routes import (
        ask,
        conversations,
        help_conversations,
        insights,
        knowledge,
        review,
        slack,
        stats,
        system,
        tickets,
        tokens,
    )

    settings = settings or get_settings()
    settings.export_tiktoken_cache()
    configure_logging(json_logs=settings.log_json, level=settings.log_level)
    metrics = Metrics()
    app = FastAPI(
        title="triage review API",
        version=API_VERSION,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=_lifespan(settings, metrics, kb, pipeline),
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.services = None
    install_problem_handlers(app)
    # Added last = outermost: the request id and access log cover the 413 too.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    routers = (
        tickets,
        conversations,
        review,
        knowledge,
        ask,
        help_conversations,
        stats,
        insights,
    )
    for module in (*routers, tokens, system, slack, web):
        app.include_router(module.router)
    app.openapi = partial(_openapi, app, settings)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI, settings: Settings) -> dict[str, Any]:
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in problem_schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components["Problem"] = problem_schema
    for model, field in _MESSAGE_FIELDS.items():
        properties = components.get(model, {}).get("properties", {})
        target = properties.get(field)
        if target is None:
            continue
        for option in target.get("anyOf", [target]):
            if option.get("type") == "string":
                option["maxLength"] = settings.max_message_chars
    # FastAPI documents every response as application/json; errors are problem+json.
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status.isdigit() and int(status) >= 400 and "application/json" in content:
                    content.setdefault(PROBLEM_JSON, content.pop("application/json"))
                    content[PROBLEM_JSON]["schema"] = {"$ref": "#/components/schemas/Problem"}
    app.openapi_schema = schema
    return schema
