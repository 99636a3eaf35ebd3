"""Tickets: create, read, audit trail, escalate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from starlette.responses import Response

from app.api.deps import (
    ConversationServiceDep,
    Creator,
    OptionalKey,
    RawBody,
    Reviewer,
    ReviewServiceDep,
    SettingsDep,
    TicketId,
    TicketServiceDep,
)
from app.api.idempotency import Rendered, keyed_call, rendered_json
from app.api.problems import ProblemError
from app.api.review_schemas import EscalateRequest
from app.api.routes.conversations import ticket_detail
from app.api.routes.responses import check_max_chars, json_response, problems
from app.api.schemas import (
    QUESTION_EXAMPLE,
    AuditEntry,
    TicketCreate,
    TicketDetail,
    TicketPublic,
)
from app.services.tickets import NewTicket
from app.store.models import Ticket

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


def _created(ticket: Ticket) -> Rendered:
    return rendered_json(TicketPublic.of(ticket), 201)


def _ticket(ticket: Ticket) -> Rendered:
    return rendered_json(TicketPublic.of(ticket))


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
    if body.channel == "slack" and principal.role == "integration":
        # A slack ticket's external_ref is where the bot posts the approved reply; only
        # the Slack endpoint (and people) may choose that.
        raise ProblemError(
            403,
            "Integration tokens cannot create 'slack' tickets: a Slack reply goes only to "
            "the thread a Slack message came from.",
            slug="forbidden-destination",
        )
    new = NewTicket(
        message=body.message,
        channel=body.channel,
        reporter=body.reporter,
        metadata=body.metadata,
        external_ref=body.external_ref,
        created_by=principal.token_id,
    )

    call = keyed_call(request, principal, idempotency_key, raw, _created)
    return await call.run_async(
        lambda transaction: service.create(new, actor=principal.actor, transaction=transaction)
    )


@router.get(
    "/{ticket_id}",
    response_model=TicketDetail,
    summary="A ticket with its conversation, every draft version and review decision",
    description=(
        "Agents and admins see every ticket, its `messages[]` in order (internal notes "
        "and system events included), `assignee` and `sla`. An integration token sees "
        "only the tickets it created (any other is a 404), with the approved reply only: "
        "`draft` and `drafts` hold approved or sent versions, `review` is empty, and "
        "`messages[]` holds the customer's messages and the replies sent."
    ),
    responses=problems(401, 403, 404),
)
def get_ticket(
    ticket_id: TicketId, principal: Creator, conversations: ConversationServiceDep
) -> Response:
    # An integration reads only the tickets it created (any other is a 404).
    creator = principal.role == "integration"
    conversation = conversations.view(ticket_id, owner=principal.token_id if creator else None)
    return json_response(ticket_detail(conversation, for_creator=creator))


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
    call = keyed_call(request, principal, idempotency_key, raw, _ticket)
    return call.run(
        lambda transaction: review.escalate(
            ticket_id,
            reviewer=principal.actor,
            reason=body.reason,
            team=body.team,
            transaction=transaction,
        )
    )
