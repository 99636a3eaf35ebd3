"""How routes answer: JSON responses, documented problems, length limits (a keyed
request's stored response is app/api/idempotency.py's)."""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.responses import Response

from app.api.idempotency import JSON
from app.api.problems import PROBLEM_JSON

_PROBLEM_DESCRIPTIONS = {
    400: "Malformed request (e.g. a body that is not JSON, an invalid cursor).",
    401: "Missing, unknown or revoked API token.",
    403: "The token's role may not do this.",
    404: "No such ticket, draft or route.",
    409: "Conflict: already decided, stale expected_version, or the same "
    "Idempotency-Key still in flight.",
    413: "The request body is larger than TRIAGE_MAX_REQUEST_BYTES.",
    422: "Invalid input, or an Idempotency-Key reused with a different request.",
    429: "Too many requests from this client; see Retry-After.",
    503: "Not ready or a dependency is down.",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problem documents a route may return."""
    return {
        code: {
            "description": _PROBLEM_DESCRIPTIONS[code],
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in codes
    }


def json_response(model: BaseModel, status: int = 200) -> Response:
    """Serialise once with pydantic-core (FastAPI would validate the model again)."""
    return Response(model.model_dump_json().encode(), status_code=status, media_type=JSON)


def check_max_chars(value: str | None, limit: int, loc: tuple[str, ...]) -> None:
    """A length limit that comes from settings, reported like any other invalid field."""
    if value is not None and len(value) > limit:
        raise RequestValidationError(
            [
                {
                    "type": "string_too_long",
                    "loc": loc,
                    "msg": f"String should have at most {limit} characters",
                    "ctx": {"max_length": limit},
                }
            ]
        )
