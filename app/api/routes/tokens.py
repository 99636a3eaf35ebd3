"""API tokens (admin only): issue, list, revoke."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from app.api.deps import Admin, ServicesDep, SessionDep, TokenId
from app.api.routes.responses import json_response, problems
from app.api.system_schemas import TokenCreate, TokenCreated, TokenPublic
from app.store import api_tokens

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])


@router.post(
    "",
    status_code=201,
    response_model=TokenCreated,
    summary="Issue a token (the secret is in this response only)",
    responses=problems(400, 401, 403, 413, 422),
)
def create_token(body: TokenCreate, principal: Admin, session: SessionDep) -> Response:
    with session.begin():
        plaintext, token = api_tokens.create_token(
            session, body.role, body.name, actor=principal.actor
        )
        public = TokenCreated(token=plaintext, **TokenPublic.model_validate(token).model_dump())
    return json_response(public, 201)


@router.get(
    "",
    response_model=list[TokenPublic],
    summary="Every token (never the secrets)",
    responses=problems(401, 403),
)
def list_tokens(_: Admin, session: SessionDep) -> list[TokenPublic]:
    return [TokenPublic.model_validate(t) for t in api_tokens.list_tokens(session)]


@router.delete(
    "/{token_id}",
    response_model=TokenPublic,
    summary="Revoke a token (effective everywhere within TRIAGE_AUTH_CACHE_SECONDS)",
    responses=problems(401, 403, 404),
)
def revoke_token(
    token_id: TokenId, principal: Admin, session: SessionDep, services: ServicesDep
) -> TokenPublic:
    with session.begin():
        token = api_tokens.revoke(session, token_id, actor=principal.actor)
        public = TokenPublic.model_validate(token)
    services.auth.forget()
    return public
