"""The API tokens page (admins only): list, create (the new value is shown once, on the page answering the
form, never stored or redirected through a URL) and revoke. Forms carry the CSRF synchronizer token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from openai_casb.store import NotFoundError
from openai_casb.web.accounts import Role
from openai_casb.web.api import schemas
from openai_casb.web.context import context_of
from openai_casb.web.ids import TokenId
from openai_casb.web.pages.render import Csrf, PageAdmin, checked_admin, render

router = APIRouter(include_in_schema=False)
def _page(request: Request, status: int = 200, **values: Any) -> HTMLResponse:
    values.setdefault("form", {"name": "", "role": str(Role.VIEWER)})
    return render(request, "tokens.html", status=status, title="API tokens",
                  tokens=context_of(request).accounts.list_tokens(), roles=[str(r) for r in Role], **values)


def _problem(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error.get("loc", ())) or "form"
        parts.append(f"{field}: {str(error.get('msg', 'invalid')).removeprefix('Value error, ')}")
    return "; ".join(parts)


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, _admin: PageAdmin) -> HTMLResponse:
    return _page(request)


@router.post("/tokens", response_class=HTMLResponse)
def create_token(request: Request, admin: PageAdmin, csrf: Csrf, name: Annotated[str, Form(max_length=1000)] = "",
                 role: Annotated[str, Form(max_length=100)] = "") -> HTMLResponse:
    user = checked_admin(admin, csrf)
    try:
        wanted = schemas.TokenCreate.model_validate({"name": name, "role": role})
    except ValidationError as exc:
        return _page(request, 422, error=_problem(exc), form={"name": name, "role": role})
    info, token = context_of(request).accounts.create_token(Role(wanted.role), wanted.name, by=user.name,
                                                            owner=user.owner)
    # Answered directly (no redirect) so that the value appears once and only in this response.
    return _page(request, 201, created=info, created_token=token)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(request: Request, admin: PageAdmin, token_id: TokenId, csrf: Csrf) -> Response:
    user = checked_admin(admin, csrf)
    try:
        context_of(request).accounts.revoke_token(token_id, by=user.name)
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    return RedirectResponse("/tokens", 303)
