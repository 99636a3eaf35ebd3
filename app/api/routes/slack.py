"""``POST /v1/slack/events``: Slack Events API in, tickets out.

The route verifies the signature, parses the body and answers Slack's URL challenge;
everything else is ``app.slack.receiver.SlackReceiver`` (reached through
``app.api.deps``), whose outcome becomes the acknowledgement: a 200 with its status, or
a 503 when Slack should retry.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app.api.deps import SlackReceiverDep
from app.api.problems import problem_response
from app.api.routes.responses import problems
from app.slack.events import signature_ok
from app.slack.receiver import SlackUnavailable

__all__ = ["router"]

router = APIRouter()


def _problem(request: Request, status: int, detail: str, *, slug: str | None = None) -> Response:
    return problem_response(status, detail, instance=request.url.path, slug=slug)


@router.post(
    "/v1/slack/events",
    tags=["slack"],
    summary="Slack Events API receiver",
    responses=problems(400, 401, 503),
)
async def slack_events(request: Request, receiver: SlackReceiverDep) -> Response:
    if receiver is None or not receiver.signing_secret:
        return _problem(
            request,
            503,
            "Slack events are not configured: set TRIAGE_SLACK_SIGNING_SECRET.",
            slug="slack-not-configured",
        )
    body = await request.body()
    if not signature_ok(
        receiver.signing_secret,
        body,
        request.headers.get("x-slack-request-timestamp"),
        request.headers.get("x-slack-signature"),
    ):
        return _problem(
            request,
            401,
            "Missing, invalid or expired Slack signature.",
            slug="invalid-slack-signature",
        )
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return _problem(request, 400, "The body is not JSON.")
    if not isinstance(payload, dict):
        return _problem(request, 400, "The body is not a JSON object.")
    if payload.get("type") == "url_verification":
        return JSONResponse({"challenge": str(payload.get("challenge", ""))})
    try:
        status = await receiver.receive(payload, retry=request.headers.get("x-slack-retry-num"))
    except SlackUnavailable as exc:
        return _problem(request, 503, str(exc))
    return JSONResponse({"ok": True, "status": status})
