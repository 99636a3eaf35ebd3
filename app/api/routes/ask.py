"""The public self-service endpoint behind the help widget."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Body, Path, Request

from app.api.deps import ID_PATTERN, Services, ServicesDep
from app.api.help_schemas import AnswerFeedback
from app.api.problems import ProblemError
from app.api.ratelimit import TokenBucketLimiter
from app.api.routes.responses import check_max_chars, problems
from app.api.schemas import QUESTION_EXAMPLE, AskRequest, AskResponse, Citation, RelatedPage
from app.conversations.contacts import conversation_path
from app.store.contacts import Contact

router = APIRouter(prefix="/v1", tags=["public"])


@router.post(
    "/ask",
    response_model=AskResponse,
    summary="Ask a question; get an answer or a handed-off ticket",
    description=(
        "No token needed; rate-limited per client address (token bucket, "
        "TRIAGE_PUBLIC_ASK_RATE_PER_MINUTE, per process). A grounded draft that needs no "
        "person and reaches TRIAGE_ASK_ANSWER_MIN_CONFIDENCE is answered directly; "
        "anything else becomes a `widget` ticket for an agent and the answer says so, with "
        "a `conversation_url` where the asker reads the replies and follows up. An "
        "optional `contact` (email, name) is stored on that ticket: replies are then "
        "also emailed. An optional `asker` (an opaque per-browser id) is stored as a keyed "
        "hash with the answer or the ticket, to measure deflection."
    ),
    responses=problems(400, 413, 422, 429),
)
async def ask(
    request: Request,
    services: ServicesDep,
    body: Annotated[
        AskRequest,
        Body(openapi_examples={"question": {"value": {"question": QUESTION_EXAMPLE}}}),
    ],
) -> AskResponse:
    limit_public(request, services)
    check_max_chars(body.question, services.settings.max_message_chars, ("body", "question"))
    contact = body.contact
    answer = await services.tickets.ask(
        body.question, Contact(contact.email, contact.name) if contact else None, body.asker
    )
    token = answer.conversation_token
    return AskResponse(
        answer=answer.answer,
        citations=[Citation.model_validate(c.model_dump()) for c in answer.citations],
        confidence=answer.confidence,
        handed_off=answer.handed_off,
        ticket_id=answer.ticket_id,
        conversation_url=conversation_path(token) if token else None,
        answer_id=answer.answer_id,
        related=[
            RelatedPage(doc_id=c.doc_id, source=c.source, url=c.url)
            for c in answer.related
            if c.url
        ],
    )


@router.post(
    "/ask/{answer_id}/feedback",
    response_model=AnswerFeedback,
    summary="Say whether an answer helped",
    description=(
        "No token needed; rate-limited per client address apart from the questions "
        "(TRIAGE_ASK_FEEDBACK_RATE_PER_MINUTE). `answer_id` is the one /v1/ask returned with "
        "a direct answer; a second verdict on the same answer replaces the first. Answers "
        "that did not help feed the knowledge-gap report (GET /v1/gaps)."
    ),
    responses=problems(400, 404, 413, 422, 429),
)
async def answer_feedback(
    request: Request,
    services: ServicesDep,
    answer_id: Annotated[str, Path(pattern=ID_PATTERN)],
    body: AnswerFeedback,
) -> AnswerFeedback:
    limit_public(request, services, services.feedback_limiter, "answers")
    await anyio.to_thread.run_sync(
        partial(services.tickets.answer_feedback, answer_id, helpful=body.helpful)
    )
    return body


def limit_public(
    request: Request,
    services: Services,
    limiter: TokenBucketLimiter | None = None,
    what: str = "questions",
) -> None:
    """The public endpoints' rate limit, per client address (429 with Retry-After);
    the questions' budget unless another ``limiter`` is given."""
    client = request.client.host if request.client else "unknown"
    wait = (limiter or services.ask_limiter).acquire(client)
    if wait is not None:
        services.metrics.ask.labels(outcome="rate_limited").inc()
        retry_after = max(1, int(wait + 0.999))
        raise ProblemError(
            429,
            f"Too many {what} from this address; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
