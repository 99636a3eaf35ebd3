"""The conversation on a ticket: messages (follow-ups, replies, notes) and the agent's
workflow actions (assign, recategorize, solve, await the customer, reopen, redraft,
merge, link).  Thin: each route checks who may do what and calls the service."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from app.api.conversation_schemas import (
    ActionRequest,
    AssignRequest,
    ContactDetail,
    LinkPublic,
    LinkRequest,
    MergeRequest,
    MessageCreate,
    MessagePublic,
    RecategorizeRequest,
    SlaPublic,
)
from app.api.deps import (
    ConversationServiceDep,
    Creator,
    OptionalKey,
    RawBody,
    Reviewer,
    SettingsDep,
    TicketId,
)
from app.api.idempotency import KeyedCall, Rendered, keyed_call, rendered_json
from app.api.problems import ProblemError
from app.api.routes.responses import check_max_chars, json_response, problems
from app.api.schemas import TicketDetail
from app.conversations.actions import StatusAction
from app.conversations.follow_ups import FollowUp
from app.conversations.view import Conversation, Entry
from app.store.conversations import MessageKind

router = APIRouter(prefix="/v1/tickets", tags=["conversations"])

MESSAGE_EXAMPLES = {
    "follow_up": {
        "summary": "A customer follow-up (re-drafts with the conversation)",
        "value": {"text": "and in Python?", "author": "customer", "external_id": "slack:1712.5"},
    },
    "reply": {
        "summary": "An agent's own reply (needs an Idempotency-Key)",
        "value": {"text": "Here is the Python version: …", "author": "agent"},
    },
    "note": {
        "summary": "An internal note",
        "value": {"text": "Legacy plan; check with billing.", "author": "agent", "internal": True},
    },
}
_ACTION_PROBLEMS = problems(400, 401, 403, 404, 409, 413, 422)


# A note is an agent's message marked internal.
_AUTHORS: dict[MessageKind, Literal["customer", "agent", "system"]] = {
    "customer": "customer",
    "agent": "agent",
    "note": "agent",
    "system": "system",
}


def _message(entry: Entry) -> MessagePublic:
    return MessagePublic(
        id=entry.id,
        ticket_id=entry.ticket_id,
        author=_AUTHORS[entry.kind],
        internal=entry.internal,
        text=entry.text,
        author_name=entry.author,
        event=entry.event,
        draft_id=entry.draft_id,
        external_id=entry.external_id,
        created_at=entry.created_at,
    )


def ticket_detail(conversation: Conversation, *, for_creator: bool = False) -> TicketDetail:
    """The ticket as GET /v1/tickets/{id} shows it; an integration (``for_creator``)
    sees only its customer's messages and the replies sent, never notes or events."""
    ticket = conversation.ticket
    if for_creator:
        base = TicketDetail.for_creator(ticket)
        shown = conversation.customer_visible()
    else:
        base = TicketDetail.of_view(ticket, conversation.events)
        shown = conversation.messages
    sla = conversation.sla
    contact = conversation.contact
    return base.model_copy(
        update={
            "messages": [_message(m) for m in shown],
            "assignee": conversation.assignee,
            "sla": SlaPublic(
                first_response_due=sla.first_response.due,
                next_response_due=sla.next_response.due if sla.next_response else None,
                resolution_due=sla.resolution.due,
                breached=sla.breached,
                paused=sla.paused,
            ),
            "version": conversation.version,
            "merged_into": conversation.merged_into,
            "merged_from": conversation.merged_from,
            "links": [LinkPublic(ticket_id=t, kind=k) for t, k in conversation.linked],
            # An integration reads its own tickets, never the developer's address.
            "contact": None
            if for_creator or contact is None
            else ContactDetail(email=contact.email, name=contact.name),
        }
    )


@router.post(
    "/{ticket_id}/messages",
    status_code=201,
    response_model=TicketDetail,
    summary="Add a message: a customer follow-up, an agent's reply or an internal note",
    description=(
        "`author: customer` attaches a follow-up (an integration only to tickets it "
        "created): a solved ticket reopens, the pending draft is superseded and a new "
        "draft is written with the whole conversation. An `external_id` is stored once: "
        "a redelivery answers 200 and changes nothing. `author: agent` sends the text as "
        "the reply (exactly once; an Idempotency-Key is required) or, with "
        "`internal: true`, stores an internal note that is never sent or drafted from."
    ),
    responses={
        200: {"model": TicketDetail, "description": "A redelivered external_id: nothing changed."},
        **problems(400, 401, 403, 404, 409, 413, 422),
    },
)
def post_message(
    request: Request,
    ticket_id: TicketId,
    principal: Creator,
    service: ConversationServiceDep,
    settings: SettingsDep,
    raw: RawBody,
    body: Annotated[MessageCreate, Body(openapi_examples=MESSAGE_EXAMPLES)],
    idempotency_key: OptionalKey = None,
) -> Response:
    check_max_chars(body.text, settings.max_message_chars, ("body", "text"))
    integration = principal.role == "integration"
    if body.author == "customer":

        def followed(f: FollowUp) -> Rendered:
            detail = ticket_detail(f.conversation, for_creator=integration)
            return rendered_json(detail, 201 if f.new else 200)

        follow = keyed_call(request, principal, idempotency_key, raw, followed)
        return follow.run(
            lambda transaction: service.follow_up(
                ticket_id,
                body.text,
                actor=principal.actor,
                owner=principal.token_id if integration else None,
                external_id=body.external_id,
                transaction=transaction,
            )
        )
    if integration:
        raise ProblemError(
            403, "An integration token posts customer messages only (author: customer)."
        )
    if idempotency_key is None and not body.internal:
        # As for approvals: what is sent to the customer must be safe to retry.
        raise RequestValidationError(
            [
                {
                    "type": "missing",
                    "loc": ("header", "Idempotency-Key"),
                    "msg": "An agent's reply is sent to the customer: send an Idempotency-Key "
                    "so that a retry cannot send it twice",
                }
            ]
        )
    call: KeyedCall[Conversation] = keyed_call(
        request, principal, idempotency_key, raw, lambda c: rendered_json(ticket_detail(c), 201)
    )
    return call.run(
        lambda transaction: service.write(
            ticket_id,
            body.text,
            internal=body.internal,
            actor=principal.actor,
            expected_version=body.expected_version,
            transaction=transaction,
        )
    )


@router.post(
    "/{ticket_id}/assign",
    response_model=TicketDetail,
    summary="Take, assign or unassign the ticket",
    description=(
        "`{take: true}` assigns it to you unless someone else has it (of two agents taking "
        "it at once, one wins; the other gets 409 with the current state). `{assignee: "
        "name}` assigns it to that agent, `{assignee: null}` unassigns it."
    ),
    responses=_ACTION_PROBLEMS,
)
def assign(
    ticket_id: TicketId, body: AssignRequest, principal: Reviewer, service: ConversationServiceDep
) -> Response:
    conversation = service.assign(
        ticket_id,
        actor=principal.actor,
        me=principal.name,
        assignee=body.assignee,
        take=body.take,
        expected_version=body.expected_version,
    )
    return json_response(ticket_detail(conversation))


@router.post(
    "/{ticket_id}/recategorize",
    response_model=TicketDetail,
    summary="Correct the category and/or priority (recorded as predicted vs final)",
    responses=_ACTION_PROBLEMS,
)
def recategorize(
    ticket_id: TicketId,
    body: RecategorizeRequest,
    principal: Reviewer,
    service: ConversationServiceDep,
) -> Response:
    conversation = service.recategorize(
        ticket_id,
        actor=principal.actor,
        category=body.category,
        priority=body.priority,
        expected_version=body.expected_version,
    )
    return json_response(ticket_detail(conversation))


def _status_route(path: str, action: StatusAction, summary: str) -> None:
    def change(
        ticket_id: TicketId,
        principal: Reviewer,
        service: ConversationServiceDep,
        body: ActionRequest | None = None,
    ) -> Response:
        conversation = service.change_status(
            ticket_id,
            action,
            actor=principal.actor,
            expected_version=body.expected_version if body else None,
        )
        return json_response(ticket_detail(conversation))

    router.add_api_route(
        f"/{{ticket_id}}/{path}",
        change,
        methods=["POST"],
        response_model=TicketDetail,
        summary=summary,
        responses=_ACTION_PROBLEMS,
        name=f"ticket_{action}",
    )


_status_route("solve", "solve", "Mark the ticket solved (a customer follow-up reopens it)")
_status_route("awaiting-customer", "await_customer", "Wait on the customer (the SLA clocks pause)")
_status_route("reopen", "reopen", "Reopen a solved or waiting ticket")


@router.post(
    "/{ticket_id}/redraft",
    response_model=TicketDetail,
    summary="Ask for a new draft of the reply to the latest customer message",
    responses=_ACTION_PROBLEMS,
)
def redraft(
    ticket_id: TicketId,
    principal: Reviewer,
    service: ConversationServiceDep,
    body: ActionRequest | None = None,
) -> Response:
    conversation = service.redraft(
        ticket_id,
        actor=principal.actor,
        expected_version=body.expected_version if body else None,
    )
    return json_response(ticket_detail(conversation))


@router.post(
    "/{ticket_id}/merge",
    response_model=TicketDetail,
    summary="Merge this ticket (a duplicate) into another; returns the target",
    description=(
        "The duplicate keeps every message and its audit trail, points at the target "
        "(`merged_into`), is solved and its pending draft superseded; the target's "
        "conversation shows the duplicate's messages. Follow-ups to the duplicate attach "
        "to the target."
    ),
    responses=_ACTION_PROBLEMS,
)
def merge(
    ticket_id: TicketId, body: MergeRequest, principal: Reviewer, service: ConversationServiceDep
) -> Response:
    conversation = service.merge(
        ticket_id, body.into, actor=principal.actor, expected_version=body.expected_version
    )
    return json_response(ticket_detail(conversation))


@router.post(
    "/{ticket_id}/link",
    response_model=TicketDetail,
    summary="Link this ticket to another (e.g. reports of one incident)",
    responses=_ACTION_PROBLEMS,
)
def link(
    ticket_id: TicketId, body: LinkRequest, principal: Reviewer, service: ConversationServiceDep
) -> Response:
    conversation = service.link(
        ticket_id,
        body.ticket_id,
        actor=principal.actor,
        kind=body.kind,
        expected_version=body.expected_version,
    )
    return json_response(ticket_detail(conversation))
