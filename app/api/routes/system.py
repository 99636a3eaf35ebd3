"""Liveness and metrics (public)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.responses import Response

from app.api.deps import ServicesDep
from app.api.problems import problem_response
from app.api.routes.responses import json_response, problems
from app.api.system_schemas import Health

router = APIRouter(tags=["system"])
log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0


async def _check(name: str, probe: Callable[[], object]) -> str:
    """'ok' or a short reason; a hung dependency costs at most CHECK_TIMEOUT_SECONDS."""
    with anyio.move_on_after(CHECK_TIMEOUT_SECONDS):
        try:
            await anyio.to_thread.run_sync(probe, abandon_on_cancel=True)
        except Exception as exc:
            log.warning("health check %s failed: %s", name, type(exc).__name__)
            return f"error: {type(exc).__name__}"
        return "ok"
    return "timeout"


@router.get(
    "/healthz",
    response_model=Health,
    summary="Liveness: the database and the knowledge base answer",
    responses=problems(503),
)
async def healthz(request: Request, services: ServicesDep) -> Response:
    runtime = services.runtime

    def database() -> None:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def knowledge_base() -> None:
        runtime.kb.store.client.heartbeat()

    checks = {
        "database": await _check("database", database),
        "knowledge_base": await _check("knowledge_base", knowledge_base),
    }
    if all(v == "ok" for v in checks.values()):
        return json_response(Health(status="ok", checks=checks))
    failing = ", ".join(k for k, v in checks.items() if v != "ok")
    return problem_response(
        503,
        f"Unhealthy: {failing}.",
        instance=request.url.path,
        slug="unavailable",
        extensions={"status_detail": "degraded", "checks": checks},
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics of this process",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Text format."}},
)
def metrics(services: ServicesDep) -> Response:
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
