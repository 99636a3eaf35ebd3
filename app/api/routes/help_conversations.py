"""The developer's conversation behind their /help link: public, the token in the path
is the only credential (unknown tokens are 404, like missing tickets), and a follow-up
(which runs the pipeline) shares /v1/ask's per-address rate limit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from app.api.deps import ServicesDep
from app.api.help_schemas import (
    ContactIn,
    ContactPublic,
    FollowUpIn,
    PublicConversation,
    PublicMessage,
)
from app.api.routes.ask import limit_public
from app.api.routes.responses import check_max_chars, problems
from app.conversations.public import HelpConversations, PublicView
from app.store.contacts import Contact

router = APIRouter(prefix="/v1/conversations", tags=["public"])

Token = Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


def _public(view: PublicView) -> PublicConversation:
    return PublicConversation(
        ticket_id=view.ticket_id,
        status=view.status,
        messages=[
            PublicMessage(
                author="customer" if m.kind == "customer" else "agent",
                text=m.text,
                created_at=m.created_at,
            )
            for m in view.messages
        ],
        contact=ContactPublic(email=view.email, name=view.name),
    )


@router.get(
    "/{token}",
    response_model=PublicConversation,
    summary="The conversation behind a /help link: your messages and the replies",
    responses=problems(404, 422),
)
def read(token: Token, services: ServicesDep) -> PublicConversation:
    return _public(HelpConversations(services.conversations).view(token))


@router.put(
    "/{token}/contact",
    response_model=PublicConversation,
    summary="Leave or change the email the replies are sent to",
    responses=problems(400, 404, 413, 422),
)
def set_contact(token: Token, body: ContactIn, services: ServicesDep) -> PublicConversation:
    # Not rate-limited with the questions: cheap, and asked for right after a question.
    help_desk = HelpConversations(services.conversations)
    return _public(help_desk.set_contact(token, Contact(body.email, body.name)))


@router.post(
    "/{token}/messages",
    response_model=PublicConversation,
    status_code=201,
    summary="Follow up: the message attaches to the same ticket for an agent",
    responses=problems(400, 404, 409, 413, 422, 429),
)
def follow_up(
    token: Token, body: FollowUpIn, request: Request, services: ServicesDep
) -> PublicConversation:
    limit_public(request, services)
    check_max_chars(body.text, services.settings.max_message_chars, ("body", "text"))
    return _public(HelpConversations(services.conversations).follow_up(token, body.text))
