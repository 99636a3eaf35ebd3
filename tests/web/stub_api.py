"""A scripted stand-in for the review API, for browser tests of page behaviour.

The real service covers the happy paths end to end (test_console_e2e, test_help_e2e);
this one makes the failures the pages must handle happen on demand — a lost approval
response, a rate limit, a hostile message — and records what the browser sent.
Responses follow the real API's shapes and its problem+json documents.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from app.api import web
from app.api.problems import install_problem_handlers, problem_response

TOKEN = "trg_stub-agent-token"


@dataclass(frozen=True)
class Scripted:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def ticket(n: int, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": f"tkt_{n:04d}",
        "status": "pending_review",
        "channel": "api",
        "reporter": "dev@example.com",
        "message": f"Question number {n}: our sandbox returns 401",
        "metadata": {},
        "triage": {
            "category": "auth_api_access",
            "confidence": 0.82,
            "priority": "P2",
            "team": "integrations",
            "language": "en",
            "sentiment": "neutral",
            "flags": [],
        },
        "signals": {"http_statuses": [401]},
        "redactions": [],
        "category": "auth_api_access",
        "priority": "P2",
        "team": "integrations",
        "external_ref": None,
        "created_at": "2025-01-01T10:00:00Z",
        "updated_at": "2025-01-01T10:00:00Z",
        "draft": {
            "id": f"drf_{n:04d}",
            "ticket_id": f"tkt_{n:04d}",
            "version": 1,
            "status": "pending",
            "text": "Send the client id and secret with HTTP Basic auth.",
            "final_text": None,
            "citations": [
                {
                    "chunk_id": "c1",
                    "doc_id": "docs/auth",
                    "source": "docs/auth.md",
                    "url": "https://docs.example.com/auth#basic",
                    "quote": "Basic auth",
                }
            ],
            "confidence": 0.8,
            "needs_human": False,
            "reason": None,
            "created_at": "2025-01-01T10:00:00Z",
            "approved_by": None,
            "approved_at": None,
        },
        "drafts": [],
        "review": [],
    }
    base.update(overrides)
    return base


class StubApi:
    def __init__(self, tickets: list[dict[str, Any]]) -> None:
        self.tickets = {t["id"]: t for t in tickets}
        self.order = [t["id"] for t in tickets]
        self.approve_script: deque[Scripted] = deque()
        self.ask_script: deque[Scripted] = deque()
        self.approvals: list[tuple[str | None, dict[str, Any]]] = []
        self.queue_queries: list[dict[str, str]] = []
        self.asks: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def app(self) -> FastAPI:
        app = FastAPI()
        install_problem_handlers(app)
        app.include_router(web.router)

        def authorised(request: Request) -> Response | None:
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return problem_response(
                    401, "The API token is unknown or revoked.", instance=request.url.path
                )
            return None

        @app.get("/v1/review/queue")
        def queue(request: Request) -> Response:
            if (denied := authorised(request)) is not None:
                return denied
            query = dict(request.query_params)
            self.queue_queries.append(query)
            wanted = [
                self.tickets[i]
                for i in self.order
                if self.tickets[i]["status"] == "pending_review"
                and all(
                    not query.get(key) or self.tickets[i][key] == query[key]
                    for key in ("category", "priority", "team")
                )
            ]
            start = int(query.get("cursor") or 0)
            limit = int(query.get("limit") or 50)
            page = wanted[start : start + limit]
            more = start + limit < len(wanted)
            return JSONResponse(
                {"items": page, "next_cursor": str(start + limit) if more else None}
            )

        @app.get("/v1/tickets/{ticket_id}")
        def get_ticket(ticket_id: str, request: Request) -> Response:
            if (denied := authorised(request)) is not None:
                return denied
            return JSONResponse(self.tickets[ticket_id])

        @app.get("/v1/tickets/{ticket_id}/audit")
        def audit(ticket_id: str, request: Request) -> Response:
            if (denied := authorised(request)) is not None:
                return denied
            return JSONResponse([])

        @app.post("/v1/drafts/{draft_id}/approve")
        async def approve(draft_id: str, request: Request) -> Response:
            if (denied := authorised(request)) is not None:
                return denied
            body = await request.json()
            with self._lock:
                self.approvals.append((request.headers.get("idempotency-key"), body))
                scripted = self.approve_script.popleft() if self.approve_script else None
            if scripted is not None:
                return problem_response(
                    scripted.status,
                    str(scripted.body["detail"]),
                    instance=request.url.path,
                    headers=scripted.headers,
                )
            target = next(t for t in self.tickets.values() if t["draft"]["id"] == draft_id)
            target["status"] = "approved"
            target["draft"] = {**target["draft"], "status": "approved"}
            target["draft"]["final_text"] = body.get("text") or target["draft"]["text"]
            return JSONResponse(target["draft"])

        @app.post("/v1/ask")
        async def ask(request: Request) -> Response:
            self.asks.append(await request.json())
            scripted = self.ask_script.popleft()
            if scripted.status >= 400:
                return problem_response(
                    scripted.status,
                    str(scripted.body["detail"]),
                    instance=request.url.path,
                    headers=scripted.headers,
                    extensions={k: v for k, v in scripted.body.items() if k != "detail"},
                )
            return JSONResponse(scripted.body)

        return app
