"""Dashboard sessions: signed, timestamped cookies holding the username, the user's session generation
and a CSRF synchronizer token.

The generation is compared with the user's row on every request: logout, a password or role change and
deleting the user bump or remove it, so a cookie saved before stops working at once, on every server process.

The cookie is HttpOnly, SameSite=Strict and Secure (unless turned off for plain-http localhost).
Every state-changing form posts the session's CSRF token, compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from openai_casb.web.accounts import Principal
from openai_casb.web.context import WebContext, context_of

SESSION_COOKIE = "casb_session"


@dataclass(frozen=True, slots=True)
class SessionData:
    username: str | None  # None before login: the session only carries the login form's CSRF token
    csrf: str
    generation: int | None = None  # the user's session generation when the cookie was issued


def _serializer(ctx: WebContext) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.session_key, salt="session")


def read_session(request: Request) -> SessionData | None:
    ctx = context_of(request)
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(ctx).loads(raw, max_age=ctx.session_max_age)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
        return None
    username = data.get("u")
    generation = data.get("g")
    return SessionData(username if isinstance(username, str) else None, data["csrf"],
                       generation if isinstance(generation, int) and not isinstance(generation, bool) else None)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def write_session(request: Request, response: Response, username: str | None, csrf: str | None = None,
                  generation: int | None = None) -> SessionData:
    """A session for `username` at its session `generation` (None: an anonymous one for the login form)
    with a new CSRF token."""
    ctx = context_of(request)
    session = SessionData(username, csrf or new_csrf_token(), generation)
    value = _serializer(ctx).dumps({"u": username, "csrf": session.csrf, "g": generation})
    response.set_cookie(SESSION_COOKIE, value, max_age=ctx.session_max_age, httponly=True,
                        secure=ctx.secure_cookies, samesite="strict", path="/")
    return session


def clear_session(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, secure=context_of(request).secure_cookies,
                           samesite="strict")


def session_principal(request: Request) -> tuple[Principal, SessionData] | None:
    session = read_session(request)
    if session is None or session.username is None or session.generation is None:
        return None
    principal = context_of(request).accounts.session_user(session.username, session.generation)
    return (principal, session) if principal is not None else None


def csrf_ok(session: SessionData | None, submitted: str | None) -> bool:
    # Bytes: compare_digest refuses str with non-ASCII characters (TypeError), which a form can send.
    return session is not None and bool(submitted) and hmac.compare_digest(
        session.csrf.encode("utf-8", "surrogatepass"), (submitted or "").encode("utf-8", "surrogatepass"))
