"""API tokens (admins only): list, create (the value is returned once), revoke."""

from __future__ import annotations

from typing import Literal, cast

from fastapi import APIRouter, Request

from openai_casb.web.accounts import Role, TokenInfo
from openai_casb.web.api import schemas
from openai_casb.web.auth import Admin
from openai_casb.web.context import context_of
from openai_casb.web.ids import TokenId

router = APIRouter(tags=["API tokens"])


def token_out(info: TokenInfo) -> schemas.TokenOut:
    return schemas.TokenOut(id=info.id, name=info.name, role=cast(Literal["admin", "viewer"], str(info.role)),
                            prefix=info.prefix,
                            created_at=info.created_at, last_used_at=info.last_used_at,
                            revoked=info.revoked_at is not None, revoked_at=info.revoked_at)


@router.get("/tokens", response_model=list[schemas.TokenOut])
def list_tokens(request: Request, _who: Admin) -> list[schemas.TokenOut]:
    return [token_out(info) for info in context_of(request).accounts.list_tokens()]


@router.post("/tokens", response_model=schemas.TokenCreated, status_code=201)
def create_token(request: Request, body: schemas.TokenCreate, who: Admin) -> schemas.TokenCreated:
    info, token = context_of(request).accounts.create_token(Role(body.role), body.name, by=who.name,
                                                            owner=who.owner)
    return schemas.TokenCreated(**token_out(info).model_dump(), token=token)


@router.delete("/tokens/{token_id}", response_model=schemas.TokenOut)
def revoke_token(request: Request, token_id: TokenId, who: Admin) -> schemas.TokenOut:
    return token_out(context_of(request).accounts.revoke_token(token_id, by=who.name))
