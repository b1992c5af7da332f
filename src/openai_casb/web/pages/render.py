"""Rendering dashboard pages: one Jinja2 environment with autoescaping, and page-level auth."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from openai_casb.detections import Severity
from openai_casb.web.accounts import Principal
from openai_casb.web.sessions import SessionData, csrf_ok, session_principal

TEMPLATES = Path(__file__).parent.parent / "templates"

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                   trim_blocks=True, lstrip_blocks=True)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _severity(value: Severity | int | str) -> str:
    if isinstance(value, str):
        return value.lower()
    return Severity(value).label.lower()


_env.filters["when"] = _when
_env.filters["sev"] = _severity
_env.globals["severities"] = [s.label.lower() for s in sorted(Severity, reverse=True)]


class LoginRequired(Exception):
    """Raised by page handlers when there is no valid session; answered with a redirect to /login."""


def page_user(request: Request) -> tuple[Principal, SessionData]:
    found = session_principal(request)
    if found is None:
        raise LoginRequired
    return found


def page_admin(found: Annotated[tuple[Principal, SessionData], Depends(page_user)]) -> tuple[Principal, SessionData]:
    if not found[0].is_admin:
        raise HTTPException(403, "only admins can do this")
    return found


# Dependencies, so that they refuse a request before its form or query is even validated.
PageUser = Annotated[tuple[Principal, SessionData], Depends(page_user)]
PageAdmin = Annotated[tuple[Principal, SessionData], Depends(page_admin)]
Csrf = Annotated[str, Form(max_length=200)]


def checked_admin(admin: tuple[Principal, SessionData], token: str) -> Principal:
    """The admin posting a form, once the form's CSRF token matches the session's."""
    user, session = admin
    if not csrf_ok(session, token):
        raise HTTPException(403, "the form expired or did not come from this site; reload the page and retry")
    return user


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    found = session_principal(request)
    user, session = found if found else (None, None)
    html = _env.get_template(template).render(request=request, user=user,
                                                csrf=session.csrf if session else "", **values)
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, message: str) -> Response:
    if status == 401:
        return RedirectResponse("/login", status_code=303)
    return render(request, "error.html", status=status, status_code=status, message=message)
