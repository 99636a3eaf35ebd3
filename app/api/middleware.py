"""Pure ASGI middleware: request context (id, access log, metrics, last-resort 500) and
the request body limit.

Pure ASGI rather than ``BaseHTTPMiddleware``: no extra task per request, streaming is
left alone, and the body limit can count bytes as they arrive.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem_response
from app.observability import Metrics, request_id_var

access_log = logging.getLogger("triage.access")
log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
# A caller's id is adopted only if it is short and plain, so it is safe in logs.
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED_ROUTE = "<unmatched>"


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    if isinstance(route, BaseRoute):
        path = getattr(route, "path", None)
        if isinstance(path, str):
            return str(scope.get("root_path", "")) + path
    return UNMATCHED_ROUTE


class RequestContextMiddleware:
    """Request id in and out, one access log line, the latency histogram, and a
    problem+json 500 for anything nothing else handled (details only in the log)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER)
        request_id = incoming if incoming and _REQUEST_ID_OK.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error")
            if not response_started:
                response = problem_response(
                    500,
                    "The server hit an unexpected error. It has been logged; quote the "
                    f"request id {request_id} when reporting it.",
                    instance=scope.get("path", ""),
                    extensions={"request_id": request_id},
                )
                await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope.get("method", "")
            self.metrics.request_seconds.labels(
                method=method, route=route, status=str(status)
            ).observe(elapsed)
            access_log.info(
                "request",
                extra={
                    "method": method,
                    "route": route,
                    # A /help conversation link's token is its only credential: such
                    # paths are logged as their template, never with the token.
                    "path": route if "{token}" in route else scope.get("path", ""),
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)


class ContentTooLarge(HTTPException):
    """Raised while the body streams in; FastAPI re-raises HTTPExceptions from body
    parsing, so the problem handler answers with a 413 like any other error."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the limit of {limit} bytes.")


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes``: at once from Content-Length, or as soon as a
    streamed (chunked) body crosses the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                too_large = False  # the server rejects malformed framing itself
            if too_large:
                response = problem_response(
                    413,
                    f"The request body is larger than the limit of {self.max_bytes} bytes.",
                    instance=scope.get("path", ""),
                    headers={"Connection": "close"},
                )
                await response(scope, receive, send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise ContentTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)
