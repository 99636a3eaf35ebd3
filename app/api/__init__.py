"""The review service's HTTP API: routes, auth, problem documents, and the
Idempotency-Key handling of mutating requests (idempotency.py).  ``create_app`` is the
uvicorn factory: ``uvicorn --factory app.api:create_app`` (or ``triage serve``)."""

from app.api.app import create_app

__all__ = ["create_app"]
