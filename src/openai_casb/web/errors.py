"""One error envelope for the API: `{"error": {"code", "message", "details"}}`, 4xx for bad input."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from openai_casb.store import NotFoundError, StoreError
from openai_casb.web.keys import SecretKeyError
from openai_casb.web.scan_launcher import ScanRunningError, ScanUnavailableError

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 415: "unsupported_media_type", 422: "invalid_request", 500: "internal_error",
          503: "unavailable"}


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


def error_response(status: int, message: str, details: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorEnvelope(error=ErrorBody(code=_CODES.get(status, "error"), message=message, details=details))
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path: Starlette's 405 names only the first route's."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        regex = getattr(route, "path_regex", None)
        if route.methods and regex is not None and regex.match(request.url.path):
            methods |= set(route.methods)
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
        if not _is_api(request) and exc.status_code in (400, 401, 403, 404, 405, 409):
            from openai_casb.web.pages.render import error_page  # the dashboard shows its own page

            page = error_page(request, exc.status_code, str(exc.detail))
            page.headers.update(headers if exc.status_code == 405 else {})
            return page
        if exc.status_code == 400:
            # The API's only 400 is FastAPI's for a body it could not parse (e.g. JSON nested too deep):
            # bad input is a 422 in the documented contract, like a body that is not JSON at all.
            return error_response(422, "the request is invalid",
                                  [{"location": ["body"], "message": str(exc.detail)}], headers=headers or None)
        return error_response(exc.status_code, str(exc.detail), headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # A dashboard form without its CSRF token is refused as one with a wrong token (403),
        # before anything else about the form is judged.
        if any(tuple(item.get("loc", ())) == ("body", "csrf") for item in exc.errors()):
            return error_response(403, "the form expired or did not come from this site; reload the page and retry")
        details = [
            {"location": [str(part) for part in item.get("loc", ())], "message": str(item.get("msg", ""))}
            for item in jsonable_encoder(exc.errors())
        ]
        return error_response(422, "the request is invalid", details)

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> Response:
        return error_response(404, str(exc))

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError) -> Response:
        return error_response(409, str(exc))

    @app.exception_handler(ScanRunningError)
    async def _running(request: Request, exc: ScanRunningError) -> Response:
        return error_response(409, str(exc))

    @app.exception_handler(ScanUnavailableError)
    async def _no_scans(request: Request, exc: ScanUnavailableError) -> Response:
        return error_response(503, str(exc))

    @app.exception_handler(SecretKeyError)
    async def _key(request: Request, exc: SecretKeyError) -> Response:
        return error_response(409, str(exc))
