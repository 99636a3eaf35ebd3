"""The review queue and the decisions on drafts (approve, reject)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from app.api.deps import (
    NO_NUL_PATTERN,
    ConversationServiceDep,
    DraftId,
    RawBody,
    RequiredKey,
    Reviewer,
    ReviewServiceDep,
    SettingsDep,
    TicketServiceDep,
)
from app.api.idempotency import Rendered, keyed_call, rendered_json
from app.api.queue_schemas import QueuePage
from app.api.review_schemas import ApproveRequest, RejectRequest
from app.api.routes.responses import check_max_chars, problems
from app.api.schemas import DraftPublic
from app.services.review_queue import Workflow
from app.store import tickets as ticket_store
from app.store.errors import InvalidInputError
from app.store.models import Draft, TicketStatus

router = APIRouter(tags=["review"])

APPROVE_EXAMPLES = {
    "as_drafted": {"summary": "Approve the draft as written", "value": {}},
    "edited": {
        "summary": "Approve an edited reply, only if still version 1",
        "value": {
            "text": "Hi! Sandbox secrets were rotated this morning; create a new one under "
            "Settings > API keys and retry.",
            "expected_version": 1,
        },
    },
}
REJECT_EXAMPLES = {
    "coded": {"summary": "With a reason code", "value": {"reason_code": "inaccurate"}},
    "explained": {
        "summary": "With a code and an explanation",
        "value": {"reason_code": "incomplete", "reason": "Does not mention the sandbox host."},
    },
}


def _draft(draft: Draft) -> Rendered:
    return rendered_json(DraftPublic.model_validate(draft))


@router.get(
    "/v1/review/queue",
    response_model=QueuePage,
    summary="Tickets waiting for review, most urgent first",
    description=(
        "Ordered by priority (P1 first), then age (oldest first); `sort=due` orders by "
        "the SLA's next due time instead (soonest first; tickets with no running clock, "
        "e.g. paused or solved, last; then by priority and age). Keyset pagination: pass "
        "`next_cursor` back as `cursor` with the same `sort`; in the priority order "
        "tickets created while paging never shift pages (due times move as tickets are "
        "acted on, so a due-ordered page is as of its request). Each item carries "
        "`assignee` and `sla` (`first_response_due`, `next_response_due`, "
        "`resolution_due`, `next_due`, `breached`, `paused`). `status=any` lists every "
        "status; `mine=true` only tickets assigned to you; `breached=true` only tickets "
        "past an SLA target (such a page may be shorter than `limit` while `next_cursor` "
        "says more follow)."
    ),
    responses=problems(401, 403, 422),
)
def review_queue(
    principal: Reviewer,
    service: TicketServiceDep,
    conversations: ConversationServiceDep,
    status: Annotated[
        TicketStatus | Literal["any"], Query(description="Ticket status to list, or any.")
    ] = "pending_review",
    category: Annotated[
        str | None, Query(max_length=64, pattern=NO_NUL_PATTERN, examples=["auth_api_access"])
    ] = None,
    priority: Annotated[
        str | None, Query(max_length=8, pattern=NO_NUL_PATTERN, examples=["P1"])
    ] = None,
    team: Annotated[
        str | None, Query(max_length=64, pattern=NO_NUL_PATTERN, examples=["integrations"])
    ] = None,
    cursor: Annotated[
        str | None, Query(max_length=512, pattern=NO_NUL_PATTERN, description="From next_cursor.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=ticket_store.MAX_PAGE)] = 20,
    mine: Annotated[bool, Query(description="Only tickets assigned to you.")] = False,
    breached: Annotated[bool, Query(description="Only tickets past an SLA target.")] = False,
    sort: Annotated[
        ticket_store.QueueSort,
        Query(description="priority: P1 first, then oldest; due: soonest SLA due time first."),
    ] = "priority",
) -> Response:
    if cursor is not None:
        try:
            ticket_store.decode_cursor(cursor, sort)
        except InvalidInputError as exc:
            raise RequestValidationError(
                [{"type": "value_error", "loc": ("query", "cursor"), "msg": str(exc)}]
            ) from exc
    workflow = Workflow(
        conversations.policy,
        conversations.clock(),
        assignee=principal.name if mine else None,
        breached=breached,
    )
    wanted = None if status == "any" else status
    query = ticket_store.QueueQuery(wanted, category, priority, team, limit, cursor, sort)
    body = service.queue(query, workflow)
    # Written in QueuePage's shape by the service (the route's hot path).
    return Response(body, media_type="application/json")


@router.post(
    "/v1/drafts/{draft_id}/approve",
    response_model=DraftPublic,
    summary="Approve a draft, as written or edited; the reply is then sent",
    description=(
        "Compare-and-set: exactly one approval of a draft wins; any other gets 409 "
        "(also when `expected_version` is stale or a newer draft superseded this one). "
        "The reviewer is the token's owner. Requires an Idempotency-Key."
    ),
    responses=problems(400, 401, 403, 404, 409, 413, 422),
)
def approve_draft(
    request: Request,
    draft_id: DraftId,
    principal: Reviewer,
    review: ReviewServiceDep,
    settings: SettingsDep,
    raw: RawBody,
    idempotency_key: RequiredKey,
    body: Annotated[ApproveRequest, Body(openapi_examples=APPROVE_EXAMPLES)],
) -> Response:
    check_max_chars(body.text, settings.max_message_chars, ("body", "text"))
    call = keyed_call(request, principal, idempotency_key, raw, _draft)
    return call.run(
        lambda transaction: review.approve(
            draft_id,
            reviewer=principal.actor,
            text=body.text,
            expected_version=body.expected_version,
            transaction=transaction,
        )
    )


@router.post(
    "/v1/drafts/{draft_id}/reject",
    response_model=DraftPublic,
    summary="Reject a draft; the ticket waits for a new draft or an escalation",
    responses=problems(400, 401, 403, 404, 409, 413, 422),
)
def reject_draft(
    request: Request,
    draft_id: DraftId,
    principal: Reviewer,
    review: ReviewServiceDep,
    raw: RawBody,
    idempotency_key: RequiredKey,
    body: Annotated[RejectRequest, Body(openapi_examples=REJECT_EXAMPLES)],
) -> Response:
    call = keyed_call(request, principal, idempotency_key, raw, _draft)
    return call.run(
        lambda transaction: review.reject(
            draft_id,
            reviewer=principal.actor,
            reason_code=body.reason_code,
            reason=body.reason,
            transaction=transaction,
        )
    )
