"""Every error as ``application/problem+json`` (RFC 9457).

Members: ``type`` (a URN naming the kind of problem, stable for clients to switch on),
``title`` (short, the same for every occurrence of the type), ``status``, ``detail``
(this occurrence, safe to show), ``instance`` (the request path) and, for invalid
input, ``errors``: one entry per problem with its location (``loc``, plus a JSON
``pointer`` into the body), ``type`` and ``message``.  Submitted values are never echoed
back: an invalid field may be the secret a developer pasted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from app.store.api_tokens import TokenNameError
from app.store.errors import (
    ConflictError,
    InvalidInputError,
    InvalidStateError,
    NotFoundError,
    StoreError,
)
from app.store.idempotency import IdempotencyInFlight, IdempotencyMismatch

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:triage:problem:"

_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "content-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "rate-limited",
    500: "internal-error",
    503: "unavailable",
}


# RFC 9110 names; Python's HTTPStatus still has the RFC 7231 phrases for these.
_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


def _title(status: int) -> str:
    if status in _TITLES:
        return _TITLES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class ProblemError(Exception):
    """Raise from anywhere in a request to answer with one problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug or _SLUGS.get(status, "error")
        self.title = title or _title(status)
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})


def problem_body(
    status: int,
    detail: str,
    *,
    instance: str,
    slug: str | None = None,
    title: str | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> bytes:
    document: dict[str, Any] = {
        "type": TYPE_PREFIX + (slug or _SLUGS.get(status, "error")),
        "title": title or _title(status),
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    for key, value in (extensions or {}).items():
        document.setdefault(key, value)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def problem_response(
    status: int,
    detail: str,
    *,
    instance: str,
    slug: str | None = None,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    body = problem_body(
        status, detail, instance=instance, slug=slug, title=title, extensions=extensions
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


# Most specific first: IdempotencyMismatch is a StoreError too.
_STORE_ERRORS: Sequence[tuple[type[StoreError], int, str, str]] = (
    (IdempotencyMismatch, 422, "idempotency-key-reused", "Idempotency-Key reused"),
    (TokenNameError, 422, "invalid-token-name", "Invalid token name"),
    (IdempotencyInFlight, 409, "idempotency-key-in-flight", "Request in progress"),
    (NotFoundError, 404, "not-found", "Not Found"),
    (ConflictError, 409, "conflict", "Conflict"),
    (InvalidStateError, 409, "invalid-state", "Invalid state for this action"),
    (InvalidInputError, 400, "bad-request", "Bad Request"),
)


def classify_store_error(exc: StoreError) -> tuple[int, str, str]:
    for kind, status, slug, title in _STORE_ERRORS:
        if isinstance(exc, kind):
            return status, slug, title
    return 409, "conflict", "Conflict"


def _pointer(loc: Sequence[Any]) -> str | None:
    if not loc or loc[0] != "body":
        return None
    return "#/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in loc[1:])


def _format_validation_errors(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    formatted = []
    for error in errors:
        loc = list(error.get("loc", ()))
        entry: dict[str, Any] = {
            "loc": loc,
            "type": error.get("type", "value_error"),
            "message": error.get("msg", "invalid value"),
        }
        pointer = _pointer(loc)
        if pointer is not None:
            entry["pointer"] = pointer
        formatted.append(entry)
    return formatted


def _malformed_json(exc: RequestValidationError) -> tuple[str, str] | None:
    """(detail, parser reason) when the body is not JSON at all, else None."""
    errors = exc.errors()
    if len(errors) != 1 or errors[0].get("type") != "json_invalid":
        return None
    error = errors[0]
    position = error["loc"][-1] if error.get("loc") else 0
    reason = str((error.get("ctx") or {}).get("error", "invalid JSON"))
    doc = exc.body if isinstance(exc.body, str) else ""
    if isinstance(position, int) and doc:
        line = doc.count("\n", 0, position) + 1
        column = position - (doc.rfind("\n", 0, position) + 1) + 1
        where = f"line {line}, column {column} (character {position})"
    else:
        where = f"character {position}"
    return f"The request body is not valid JSON: {reason} at {where}.", reason


async def _validation_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    instance = request.url.path
    malformed = _malformed_json(exc)
    if malformed is not None:
        detail, reason = malformed
        return problem_response(
            400,
            detail,
            instance=instance,
            slug="malformed-json",
            title="Malformed JSON",
            extensions={"errors": [{"loc": ["body"], "type": "json_invalid", "message": reason}]},
        )
    errors = _format_validation_errors(exc.errors())
    first = errors[0] if errors else {"loc": [], "message": "invalid request"}
    where = ".".join(str(p) for p in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return problem_response(
        422,
        f"{where}: {first['message']}{more}" if where else f"{first['message']}{more}",
        instance=instance,
        title="Invalid request",
        extensions={"errors": errors},
    )


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path: Starlette's 405 names only those of
    the first route matching the path (GET /v1/tokens and POST /v1/tokens are two).
    Asked of the router itself, method by method, so included routers count too."""
    routes = request.app.router.routes
    allowed = {
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    }
    if "GET" in allowed:
        allowed.add("HEAD")
    return sorted(allowed)


async def _http_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
        # FastAPI's body parser gave up on a document nested past the interpreter's
        # limit: valid JSON, refused like any other over-deep input.
        message = "the JSON body is nested too deeply"
        return problem_response(
            422,
            f"body: {message}",
            instance=request.url.path,
            title="Invalid request",
            extensions={"errors": [{"loc": ["body"], "type": "json_too_deep", "message": message}]},
        )
    phrase = _title(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail else phrase
    headers = dict(exc.headers or {})
    if exc.status_code == 404 and detail == phrase:
        detail = f"No route matches {request.url.path}."
    elif exc.status_code == 405:
        allowed = _allowed_methods(request)
        if allowed:
            headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
            headers["Allow"] = ", ".join(allowed)
        if detail == phrase:
            allow = headers.get("Allow")
            detail = f"{request.method} is not allowed here" + (f"; use {allow}." if allow else ".")
    return problem_response(
        exc.status_code, detail, instance=request.url.path, headers=headers or None
    )


async def _problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        exc.detail,
        instance=request.url.path,
        slug=exc.slug,
        title=exc.title,
        headers=exc.headers,
        extensions=exc.extensions,
    )


async def _store_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StoreError)
    status, slug, title = classify_store_error(exc)
    headers = {"Retry-After": "1"} if isinstance(exc, IdempotencyInFlight) else None
    return problem_response(
        status, str(exc), instance=request.url.path, slug=slug, title=title, headers=headers
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(ProblemError, _problem_handler)
    app.add_exception_handler(StoreError, _store_handler)
