"""Who may call what. The API takes `Authorization: Bearer <token>`; pages take the session cookie.

Nothing is anonymous except the login form and static files. Only admins may change anything.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from openai_casb.web.accounts import Principal
from openai_casb.web.context import context_of
from openai_casb.web.keys import TOKEN_PREFIX

_bearer = HTTPBearer(auto_error=False,
                     description="An API token from `openai-casb tokens create` or `POST /api/v1/tokens`.")

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def api_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "missing bearer token; send Authorization: Bearer <token>", headers=_CHALLENGE)
    token = credentials.credentials.strip()
    principal = context_of(request).accounts.verify_token(token) if token.startswith(TOKEN_PREFIX) else None
    if principal is None:
        raise HTTPException(401, "invalid or revoked API token", headers=_CHALLENGE)
    return principal


def api_admin(principal: Annotated[Principal, Depends(api_principal)]) -> Principal:
    if not principal.is_admin:
        raise HTTPException(403, "this action needs an admin token")
    return principal


Viewer = Annotated[Principal, Depends(api_principal)]
Admin = Annotated[Principal, Depends(api_admin)]
