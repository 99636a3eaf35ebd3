"""Tickets: create, read, audit trail, escalate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from starlette.responses import Response

from app.api.deps import (
    Creator,
    OptionalKey,
    RawBody,
    Reviewer,
    ReviewServiceDep,
    SettingsDep,
    TicketId,
    TicketServiceDep,
    idempotency_request,
)
from app.api.routes.common import (
    check_max_chars,
    error_renderer,
    json_response,
    problems,
    render,
    respond,
)
from app.api.schemas import (
    QUESTION_EXAMPLE,
    AuditEntry,
    EscalateRequest,
    TicketCreate,
    TicketDetail,
    TicketPublic,
)
from app.services.tickets import NewTicket

router = APIRouter(prefix="/v1/tickets", tags=["tickets"])

CREATE_EXAMPLES = {
    "question": {
        "summary": "A developer question",
        "value": {"message": QUESTION_EXAMPLE, "reporter": "dev@example.com"},
    },
    "with_secret": {
        "summary": "A pasted secret (redacted before anything stores it)",
        "value": {
            "message": "curl -u client_9f2a:sk_live_51HxQ... returns 401 in production",
            "channel": "api",
        },
    },
}


@router.post(
    "",
    status_code=201,
    response_model=TicketPublic,
    summary="Create a ticket from a developer question",
    description=(
        "Screens the message (secrets redacted before anything is stored), classifies it "
        "and drafts a reply. Without an LLM the draft is written now and the ticket is "
        "`pending_review` (also when the draft needs a human: its `reason` says why). "
        "With an LLM the ticket is `drafting` and the draft follows within seconds."
    ),
    responses=problems(400, 401, 403, 409, 413, 422),
)
async def create_ticket(
    request: Request,
    body: Annotated[TicketCreate, Body(openapi_examples=CREATE_EXAMPLES)],
    principal: Creator,
    service: TicketServiceDep,
    settings: SettingsDep,
    raw: RawBody,
    idempotency_key: OptionalKey = None,
) -> Response:
    check_max_chars(body.message, settings.max_message_chars, ("body", "message"))
    new = NewTicket(
        message=body.message,
        channel=body.channel,
        reporter=body.reporter,
        metadata=body.metadata,
        external_ref=body.external_ref,
    )

    rendered, replayed = await service.create(
        new,
        actor=principal.name,
        render=lambda ticket: render(TicketPublic.of(ticket), 201),
        render_error=error_renderer(request),
        idem=idempotency_request(request, principal, idempotency_key, raw),
    )
    return respond(rendered, replayed=replayed)


@router.get(
    "/{ticket_id}",
    response_model=TicketDetail,
    summary="A ticket with every draft version and review decision",
    responses=problems(401, 403, 404),
)
def get_ticket(ticket_id: TicketId, _: Reviewer, service: TicketServiceDep) -> Response:
    view = service.get(ticket_id)
    return json_response(TicketDetail.of_view(view.ticket, view.events))


@router.get(
    "/{ticket_id}/audit",
    response_model=list[AuditEntry],
    summary="Every state change of the ticket: who, what, when (oldest first)",
    responses=problems(401, 403, 404),
)
def get_audit(ticket_id: TicketId, _: Reviewer, service: TicketServiceDep) -> list[AuditEntry]:
    return [AuditEntry.model_validate(entry) for entry in service.audit_trail(ticket_id)]


@router.post(
    "/{ticket_id}/escalate",
    response_model=TicketPublic,
    tags=["review"],
    summary="Hand the ticket to a person or team",
    description=(
        "Moves the ticket to `escalated` (optionally routed to `team`). A pending draft "
        "stays pending so the receiving team can approve or reject it. Escalating an "
        "escalated ticket reassigns it. Accepts an optional Idempotency-Key."
    ),
    responses=problems(400, 401, 403, 404, 409, 413, 422),
)
def escalate_ticket(
    request: Request,
    ticket_id: TicketId,
    body: EscalateRequest,
    principal: Reviewer,
    review: ReviewServiceDep,
    raw: RawBody,
    idempotency_key: OptionalKey = None,
) -> Response:
    rendered, replayed = review.escalate(
        ticket_id,
        reviewer=principal.name,
        reason=body.reason,
        team=body.team,
        idem=idempotency_request(request, principal, idempotency_key, raw),
        render=lambda ticket: render(TicketPublic.of(ticket)),
        render_error=error_renderer(request),
    )
    return respond(rendered, replayed=replayed)
