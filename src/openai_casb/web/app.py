"""`create_app`: the FastAPI application serving the REST API (/api/v1) and the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from openai_casb import __version__
from openai_casb.web.api import findings, integrations, inventory, tokens
from openai_casb.web.auth import Viewer
from openai_casb.web.context import WebContext
from openai_casb.web.errors import ErrorEnvelope, install_error_handlers
from openai_casb.web.guards import RejectNul, SecurityHeaders
from openai_casb.web.known_query import known_api_query, known_page_query, known_query
from openai_casb.web.pages import actions, views
from openai_casb.web.pages import tokens as token_pages
from openai_casb.web.pages.render import LoginRequired

API_PREFIX = "/api/v1"
STATIC_DIR = Path(__file__).parent / "static"

# No inline script or style anywhere: every script and stylesheet is a file under /static.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def create_app(ctx: WebContext) -> FastAPI:
    app = FastAPI(
        title="openai-casb API", version=__version__,
        description="Read-only CASB for OpenAI: findings, instances, scans, integrations and API tokens. "
                    "Authenticate with `Authorization: Bearer <token>` (`openai-casb tokens create`, or "
                    "`POST /api/v1/tokens` with an admin token).",
        docs_url=None, redoc_url=None, openapi_url=None,  # the bundled docs pages load scripts from a CDN
        responses={401: {"model": ErrorEnvelope}, 403: {"model": ErrorEnvelope}, 404: {"model": ErrorEnvelope},
                   409: {"model": ErrorEnvelope}, 422: {"model": ErrorEnvelope}},
    )
    app.state.ctx = ctx
    install_error_handlers(app)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    headers = dict(SECURITY_HEADERS)
    if ctx.secure_cookies:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    # Added first, so inside SecurityHeaders: its 422s carry the headers too. SecurityHeaders is the
    # outermost of ours: every response, an unhandled exception's 500 included, gets the headers.
    app.add_middleware(RejectNul)
    app.add_middleware(SecurityHeaders, headers=headers)

    api = APIRouter(prefix=API_PREFIX)
    for module in (integrations, findings, inventory, tokens):
        api.include_router(module.router)

    @api.get("/openapi.json", include_in_schema=False)
    def openapi_document(_who: Viewer) -> dict[str, Any]:
        return app.openapi()

    # Unknown query parameters are a 422, checked once the caller is authenticated (known_query.py).
    app.include_router(api, dependencies=[Depends(known_api_query)])
    app.include_router(views.router, dependencies=[Depends(known_page_query)])
    app.include_router(actions.router, dependencies=[Depends(known_query)])  # forms; login is anonymous
    app.include_router(token_pages.router, dependencies=[Depends(known_page_query)])
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
