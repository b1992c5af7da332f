"""ASGI middleware around the whole app: security headers and the error envelope on every response
(a 500 included), and NUL characters refused anywhere in the input before a route sees them.

PostgreSQL cannot store or compare text holding U+0000 (psycopg raises DataError), so one NUL in a
query string, a form field, a JSON string or the path would otherwise be a 500 from the driver.
Refusing it here covers every route, present and future, in one place.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openai_casb.web.errors import error_response

NUL_MESSAGE = "must not contain NUL characters"
INTERNAL_MESSAGE = "internal error; the server's log has the details"


class SecurityHeaders:
    """Adds `headers` (and `Cache-Control: no-store` outside /static) to every response, and answers an
    exception that escapes the app with a 500 in the API's envelope (no traceback, no exception text)
    instead of Starlette's plain-text page; the exception is re-raised for the server to log."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str]) -> None:
        self.app = app
        self.headers = dict(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
                if not static:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if started:
                raise
            await error_response(500, INTERNAL_MESSAGE)(scope, receive, send_with_headers)
            raise


def _strings(value: Any, location: list[str]) -> Iterator[tuple[list[str], str]]:
    """Every string in a JSON document (keys too) with where it is."""
    if isinstance(value, str):
        yield location, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield location, key
            yield from _strings(item, [*location, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, [*location, str(index)])


def _nul_in_urlencoded(raw: bytes, location: str) -> list[str] | None:
    """Where a NUL is in a query string or a form body (`location`: "query" or "body")."""
    if b"\x00" not in unquote_to_bytes(raw):
        return None
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return [location, name.replace("\x00", "")]
    return [location]


def _nul_in_json(body: bytes) -> list[str] | None:
    if b"\x00" in body:
        return ["body"]
    if b"\\u0000" not in body:  # the only other way to write U+0000 in JSON
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON: the route's own validation answers
    for location, text in _strings(document, ["body"]):
        if "\x00" in text:
            return location
    return None


class RejectNul:
    """Answers 422 (`invalid_request`) when the path, the query string or the body (form fields or JSON
    strings) holds a NUL character, naming where."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where: list[str] | None = ["path"] if "\x00" in str(scope.get("path", "")) else None
        where = where or _nul_in_urlencoded(scope.get("query_string", b""), "query")
        if where is None and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            body, receive = await _buffered(receive)
            content_type = _content_type(scope)
            if "json" in content_type:
                where = _nul_in_json(body)
            elif b"\x00" in body or b"%00" in body:
                where = _nul_in_urlencoded(body, "body")
        if where is not None:
            details = [{"location": where, "message": NUL_MESSAGE}]
            await error_response(422, "the request is invalid", details)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return str(value.decode("latin-1")).lower()
    return ""


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a `receive` that hands it to the app as if it were read the first time."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: let the app see it
            pending: list[Message] = [message]
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            pending = []
            break
    body = b"".join(chunks)
    replay: list[Message] = [{"type": "http.request", "body": body, "more_body": False}, *pending]

    async def again() -> Message:
        return replay.pop(0) if replay else await receive()

    return body, again
