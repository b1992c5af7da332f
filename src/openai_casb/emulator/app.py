"""Assembling the ASGI application."""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from openai_casb.emulator.admin_api import ADMIN_ROUTES
from openai_casb.emulator.compliance_api import COMPLIANCE_ROUTES
from openai_casb.emulator.config import EmulatorConfig
from openai_casb.emulator.errors import ApiError, error_response
from openai_casb.emulator.gate import Endpoint, Gate
from openai_casb.emulator.logs_api import LOGS_ROUTES
from openai_casb.emulator.org import Org
from openai_casb.emulator.signing import verify
from openai_casb.emulator.state import EmulatorState, emulator_state
from openai_casb.emulator.stats import Stats


async def download_file(request: Request) -> Response:
    """The target of signed URLs: no Bearer key, the HMAC signature and expiry are the credential."""
    state = emulator_state(request)
    file_id = request.path_params["file_id"]
    query = request.query_params
    refusal = verify(state.config.url_secret, file_id, query.get("expires"), query.get("sig"), state.config.clock())
    if refusal is not None:
        raise ApiError(403, f"Download refused: {refusal}.", code="invalid_signature")
    stored = state.org.files.get(file_id)
    if stored is None:
        raise ApiError(404, f"No file found with id '{file_id}'.", code="not_found")
    if stored.expired:
        raise ApiError(410, f"File '{file_id}' has expired.", code="file_expired")
    media_type = mimetypes.guess_type(stored.name)[0] or "application/octet-stream"
    disposition = f"attachment; filename*=UTF-8''{quote(stored.name)}"
    return Response(stored.content(), media_type=media_type, headers={"content-disposition": disposition})


async def stats_endpoint(request: Request) -> JSONResponse:
    stats: Stats = request.app.state.stats
    return JSONResponse(stats.snapshot())


async def _api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = "not_found" if exc.status_code == 404 else None
    message = f"Unknown request URL. ({exc.detail})" if exc.status_code == 404 else str(exc.detail)
    return error_response(exc.status_code, message, code=code)


async def _unexpected_error(_request: Request, _exc: Exception) -> Response:
    # OpenAI answers its own failures in the usual envelope; Starlette's default is a plain-text 500.
    return error_response(500, "The server had an error processing your request.", error_type="server_error")


def create_app(org: Org, config: EmulatorConfig) -> Any:
    """The emulator as an ASGI application serving `org` under `config`."""
    endpoints = [Endpoint(route, "admin", "list" if is_list else "single") for route, is_list in ADMIN_ROUTES]
    endpoints += [Endpoint(route, "compliance", kind) for route, kind in COMPLIANCE_ROUTES + LOGS_ROUTES]
    endpoints += [
        Endpoint(Route("/_files/{file_id}", download_file), "public", "public"),
        Endpoint(Route("/_emulator/stats", stats_endpoint), "public", "public"),
    ]
    starlette = Starlette(
        routes=[e.route for e in endpoints],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _unexpected_error},
    )
    stats = Stats()
    starlette.state.emulator = EmulatorState(org, config)
    starlette.state.stats = stats
    gate = Gate(starlette, endpoints, org, config, stats)
    gate.stats = stats  # type: ignore[attr-defined]
    return gate
