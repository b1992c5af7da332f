"""Dashboard forms (POST): login, logout, and the admin actions. Each checks the CSRF synchronizer token."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from openai_casb.detections import Severity
from openai_casb.store import NotFoundError, StoreError
from openai_casb.web.context import context_of
from openai_casb.web.ids import InstanceId, IntegrationId
from openai_casb.web.pages.render import Csrf, PageAdmin, PageUser, checked_admin, render
from openai_casb.web.scan_launcher import ScanRunningError, ScanUnavailableError
from openai_casb.web.sessions import clear_session, csrf_ok, new_csrf_token, read_session, write_session

router = APIRouter(include_in_schema=False)
def _back(next_path: str | None, fallback: str) -> RedirectResponse:
    """Back to the local page the form names in `next` (never another site), else `fallback`."""
    path = (next_path or "").strip()
    local = path.startswith("/") and not path.startswith("//") and "\\" not in path and not urlsplit(path).netloc
    return RedirectResponse(path if local else fallback, 303)


def _login_page(request: Request, status: int = 200, error: str | None = None,
                headers: dict[str, str] | None = None) -> Response:
    csrf = new_csrf_token()
    response = render(request, "login.html", status=status, login_csrf=csrf, error=error)
    response.headers.update(headers or {})
    write_session(request, response, None, csrf)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, csrf: Csrf, username: Annotated[str, Form(max_length=100)],
          password: Annotated[str, Form(max_length=1000)]) -> Response:
    if not csrf_ok(read_session(request), csrf):
        return _login_page(request, 403, "The form expired; please sign in again.")
    client = request.client.host if request.client else "unknown"
    outcome = context_of(request).accounts.login(username.strip(), password, client)
    if outcome.retry_after is not None:
        minutes = math.ceil(outcome.retry_after / 60)
        return _login_page(request, 429, f"Too many failed logins; try again in {minutes} minute(s).",
                           {"Retry-After": str(outcome.retry_after)})
    if outcome.principal is None:
        return _login_page(request, 401, "Wrong username or password.")
    redirect = RedirectResponse("/", status_code=303)
    # A new CSRF token at login: no session fixation.
    write_session(request, redirect, outcome.principal.name, generation=outcome.generation)
    return redirect


@router.post("/logout")
def logout(request: Request, found: PageUser, csrf: Csrf) -> Response:
    user, session = found
    if not csrf_ok(session, csrf):
        raise HTTPException(403, "the form expired; reload the page and retry")
    context_of(request).accounts.end_sessions(user.name)  # a copy of the cookie stops working too
    redirect = RedirectResponse("/login", status_code=303)
    clear_session(request, redirect)
    return redirect


@router.post("/instances/{instance_id}/hide")
def hide(request: Request, admin: PageAdmin, instance_id: InstanceId, csrf: Csrf,
         reason: Annotated[str, Form(max_length=2000)]) -> Response:
    user = checked_admin(admin, csrf)
    _store_action(lambda: context_of(request).store.hide(instance_id, reason, user.name))
    return RedirectResponse(f"/instances/{instance_id}", 303)


@router.post("/instances/{instance_id}/unhide")
def unhide(request: Request, admin: PageAdmin, instance_id: InstanceId, csrf: Csrf) -> Response:
    user = checked_admin(admin, csrf)
    _store_action(lambda: context_of(request).store.unhide(instance_id, user.name))
    return RedirectResponse(f"/instances/{instance_id}", 303)


Next = Annotated[str | None, Form(max_length=500)]


@router.post("/findings/{integration_id}/{type_id}/ignore")
def ignore(request: Request, admin: PageAdmin, integration_id: IntegrationId, type_id: str, csrf: Csrf,
           next: Next = None) -> Response:
    checked_admin(admin, csrf)
    _store_action(lambda: context_of(request).store.ignore_type(integration_id, type_id))
    return _back(next, f"/findings/{integration_id}/{type_id}")


@router.post("/findings/{integration_id}/{type_id}/unignore")
def unignore(request: Request, admin: PageAdmin, integration_id: IntegrationId, type_id: str, csrf: Csrf,
             next: Next = None) -> Response:
    checked_admin(admin, csrf)
    _store_action(lambda: context_of(request).store.unignore_type(integration_id, type_id))
    return _back(next, f"/findings/{integration_id}/{type_id}")


@router.post("/findings/{integration_id}/{type_id}/severity")
def severity(request: Request, admin: PageAdmin, integration_id: IntegrationId, type_id: str, csrf: Csrf,
             level: Annotated[str, Form(max_length=20)]) -> Response:
    checked_admin(admin, csrf)
    try:
        parsed = Severity.parse(level) if level != "default" else None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    _store_action(lambda: context_of(request).store.override_severity(integration_id, type_id, parsed))
    return RedirectResponse(f"/findings/{integration_id}/{type_id}", 303)


@router.post("/integrations/{integration_id}/scan")
def trigger_scan(request: Request, admin: PageAdmin, integration_id: IntegrationId, csrf: Csrf) -> Response:
    checked_admin(admin, csrf)
    ctx = context_of(request)
    try:
        integration = ctx.store.get_integration(integration_id)
        credentials = ctx.accounts.load_credentials(integration_id, ctx.cipher)
        if credentials is None and not ctx.queued:  # workers may hold credentials of their own
            raise HTTPException(409, "this integration has no stored credentials; create it through the API")
        scan_id = ctx.launcher(integration, credentials or {}, ctx.progress)
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    except (StoreError, ScanUnavailableError, ScanRunningError) as exc:
        raise HTTPException(409, str(exc)) from None
    return RedirectResponse(f"/scans?started={scan_id}", 303)


def _store_action(action: Callable[[], None]) -> None:
    try:
        action()
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    except StoreError as exc:
        raise HTTPException(409, str(exc)) from None
