"""The one HTTP layer for both APIs: GET only, client-side quotas, retries, pagination.

Read-only is enforced twice: `ApiClient` has no method that sends anything but GET, and every
httpx client is built on `GetOnlyTransport`, which raises `ReadOnlyViolation` before a request
of any other method reaches the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from openai_casb.connectors.errors import ApiError, PaginationError, ReadOnlyViolation
from openai_casb.connectors.ratelimit import RollingWindowLimiter
from openai_casb.connectors.retry import Retrier, RetriesExhausted, RetryPolicy, Transient, is_retryable_status
from openai_casb.redaction import redact_key

log = logging.getLogger(__name__)

ParamValue = str | int | float | bool | Sequence[str] | None
Params = Mapping[str, ParamValue]
Sleep = Callable[[float], Awaitable[None]]

_KEY_LIKE = re.compile(r"sk-[A-Za-z0-9_\-*]{6,}")
_PATH_PARAM = re.compile(r"\{(\w+)\}")


def scrub(text: str, *secrets: SecretStr | None) -> str:
    """Remove keys from text the server sent (error messages may echo part of a key)."""
    for secret in secrets:
        if secret is not None and secret.get_secret_value():
            value = secret.get_secret_value()
            text = text.replace(value, redact_key(value))
    return _KEY_LIKE.sub(lambda match: redact_key(match.group(0)), text)


class _DropQueryStrings(logging.Filter):
    """httpx logs every request URL at INFO; signed download URLs carry their signature in the
    query string, so only scheme, host and path are let through."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(arg, httpx.URL) for arg in record.args):
            record.args = tuple(
                arg.copy_with(query=None, fragment=None) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


_httpx_log = logging.getLogger("httpx")
if not any(isinstance(existing, _DropQueryStrings) for existing in _httpx_log.filters):
    _httpx_log.addFilter(_DropQueryStrings())


class GetOnlyTransport(httpx.AsyncBaseTransport):
    """Wraps a transport and refuses every method but GET before sending anything."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            raise ReadOnlyViolation(f"refused to send {request.method} {request.url.path}: this tool only reads")
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def read_only_client(
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 30.0,
    headers: Mapping[str, str] | None = None,
) -> httpx.AsyncClient:
    """An httpx client that can only send GET. Redirects are never followed automatically, so a
    Bearer header cannot leak to the host of a signed URL."""
    inner = transport if transport is not None else httpx.AsyncHTTPTransport(retries=0)
    return httpx.AsyncClient(
        transport=GetOnlyTransport(inner), timeout=timeout, headers=dict(headers or {}), follow_redirects=False
    )


def fill_template(template: str, path_params: Mapping[str, str] | None) -> str:
    values = path_params or {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ValueError(f"missing path parameter {name!r} for {template}")
        return quote(str(values[name]), safe="")

    return _PATH_PARAM.sub(replace, template)


def _query(params: Params | None) -> list[tuple[str, str | int | float | bool | None]]:
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for name, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif isinstance(value, str | int | float):
            pairs.append((name, str(value)))
        else:
            pairs.extend((name, str(item)) for item in value)
    return pairs


def _error_message(response: httpx.Response) -> tuple[str, str | None]:
    try:
        body = response.json()
    except ValueError:
        return (response.reason_phrase or "error", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            message = error.get("message") or error.get("detail") or response.reason_phrase
            code = error.get("code")
            return (str(message), str(code) if code is not None else None)
        if isinstance(error, str):
            return (error, None)
    return (response.reason_phrase or "error", None)


@dataclass(slots=True)
class ClientStats:
    requests: int = 0
    retries: int = 0
    by_template: dict[str, int] = field(default_factory=dict)


class PageTooLarge(Exception):
    """A page body passed its byte cap while streaming; it was dropped unread past the cap."""

    def __init__(self, bytes_read: int) -> None:
        super().__init__(f"page body passed {bytes_read} bytes")
        self.bytes_read = bytes_read


@dataclass(slots=True)
class PageSizer:
    """Picks the `limit` of each page so one page body stays near `budget_bytes`.

    The first page asks for `max_limit`: its body is read as a stream and dropped once it passes
    twice the budget (`max_body_bytes`), then asked again with a smaller limit. That cap bounds
    memory at no cost on organizations whose pages fit, where a smaller first page would cost one
    more request. Every later page divides the budget by the bytes per item measured so far; the
    estimate follows a larger page at once and halves at most per page when items get smaller, so
    one page of small items among large ones does not ask for a huge next page. At limit 1 there
    is no cap: a single item is read whatever its size.
    """

    budget_bytes: int
    max_limit: int
    limit: int = field(init=False)
    _item_bytes: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.limit = max(1, self.max_limit)

    def _clamp(self, value: float) -> int:
        return max(1, min(self.max_limit, int(value)))

    @property
    def max_body_bytes(self) -> int | None:
        return None if self.limit <= 1 else 2 * self.budget_bytes

    def measured(self, body_bytes: int, items: int) -> None:
        if items <= 0:
            return
        self._item_bytes = max(body_bytes / items, self._item_bytes / 2)
        self.limit = self._clamp(self.budget_bytes / self._item_bytes)

    def too_large(self, bytes_read: int) -> None:
        # bytes_read is less than the whole body, so this limit is still an upper bound: shrink
        # by at least one so a retry never asks for the same page again.
        self._item_bytes = max(self._item_bytes, bytes_read / self.limit)
        self.limit = max(1, min(self.limit - 1, self._clamp(self.budget_bytes / self._item_bytes)))


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list endpoint, whichever of the two envelopes it came in."""

    data: list[Any]
    has_more: bool
    last_id: str | None
    raw: dict[str, Any]
    # The HTTP status the page came with (None when not read over HTTP), for errors about its items.
    status: int | None = None


class ApiClient:
    """GET-only JSON client for one API and one key.

    `quota_for(template)` gives the number of requests allowed per rolling window for that
    endpoint template; the limiter is keyed by client name and template.
    """

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        key: SecretStr,
        quota_for: Callable[[str], int],
        limiter: RollingWindowLimiter,
        policy: RetryPolicy,
        concurrency: int = 8,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._key = key
        self._quota_for = quota_for
        self._limiter = limiter
        self._policy = policy
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(concurrency)
        self._http = read_only_client(transport=transport, timeout=timeout, headers={"Accept": "application/json"})
        self.stats = ClientStats()
        # This client's own requests: a body that does not decode is not retried, each retry is counted,
        # and the debug line is this module's.
        self._retrier = Retrier(
            policy, sleep, self._rng, connection_errors=(httpx.TransportError,), on_retry=self._count_retry, logger=log
        )

    def __repr__(self) -> str:
        key = redact_key(self._key.get_secret_value())
        return f"ApiClient(name={self.name!r}, base_url={self.base_url!r}, key={key!r})"

    def retrier(self) -> Retrier:
        """This client's policy, sleep and jitter, for retries made beside it (signed URLs, checked bodies).
        Those retries are not counted in `stats`."""
        return Retrier(self._policy, self._sleep, self._rng)

    def _count_retry(self, _failure: Transient, _retry_number: int, _delay: float) -> None:
        self.stats.retries += 1

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _endpoint(self, template: str) -> str:
        return f"{self.name} {template}"

    async def _send(
        self, template: str, url: str, params: Params | None, max_bytes: int | None = None
    ) -> httpx.Response:
        async with self._slots:
            await self._limiter.acquire(f"{self.name}:{template}", self._quota_for(template))
            self.stats.requests += 1
            self.stats.by_template[template] = self.stats.by_template.get(template, 0) + 1
            request = self._http.build_request(
                "GET",
                url,
                params=_query(params),
                headers={"Authorization": f"Bearer {self._key.get_secret_value()}"},
            )
            response = await self._http.send(request, stream=True)
            try:
                if max_bytes is None:
                    await response.aread()
                else:
                    await _read_capped(response, max_bytes)
            finally:
                await response.aclose()
            return response

    async def request(
        self,
        template: str,
        path_params: Mapping[str, str] | None = None,
        params: Params | None = None,
        *,
        expect_json: bool = True,
        accept_statuses: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """GET with quota and retries. Returns the response for 2xx/3xx or a status in
        `accept_statuses`; raises ApiError otherwise. With `expect_json`, an unparsable 2xx body
        (truncated, invalid) is retried like a transient error."""
        response, _ = await self._request(template, path_params, params, expect_json, accept_statuses)
        return response

    async def _request(
        self,
        template: str,
        path_params: Mapping[str, str] | None,
        params: Params | None,
        expect_json: bool,
        accept_statuses: frozenset[int],
        max_bytes: int | None = None,
    ) -> tuple[httpx.Response, Any]:
        endpoint = self._endpoint(template)
        url = self.base_url + fill_template(template, path_params)

        async def attempt() -> tuple[httpx.Response, Any]:
            response = await self._send(template, url, params, max_bytes)
            status = response.status_code
            if status in accept_statuses or 300 <= status < 400:
                return response, None
            if is_retryable_status(status):
                raise Transient(scrub(_error_message(response)[0], self._key), status, response)
            if status >= 400:
                message, code = _error_message(response)
                raise ApiError(endpoint, scrub(message, self._key), status=status, code=code)
            if not expect_json:
                return response, None
            try:
                return response, json.loads(response.content)
            except ValueError:
                raise Transient("invalid or truncated JSON body", status, response) from None

        try:
            return await self._retrier.run(attempt, endpoint)
        except RetriesExhausted as exc:
            raise ApiError(endpoint, str(exc), status=exc.status) from None

    async def get_json(
        self, template: str, path_params: Mapping[str, str] | None = None, params: Params | None = None
    ) -> Any:
        _, body = await self._request(template, path_params, params, True, frozenset())
        return body

    async def paginate(
        self,
        template: str,
        path_params: Mapping[str, str] | None = None,
        params: Params | None = None,
        *,
        first_page_params: Params | None = None,
        sizer: PageSizer | None = None,
    ) -> AsyncIterator[Page]:
        """Yield pages until `has_more` is false. `first_page_params` (e.g. `since_timestamp`) are
        sent on the first page only; later pages send `after=<last_id>`. With a `sizer`, each page's
        `limit` is the sizer's, measured on the pages before it (see `PageSizer`).

        The next page is requested as soon as its cursor is known, while the caller processes the
        current one: the server prepares page N+1 while we parse page N. At most one page is ahead.
        """
        endpoint = self._endpoint(template)
        seen_cursors: set[str] = set()

        async def fetch(query: dict[str, ParamValue]) -> tuple[Any, int]:
            """The page's body and the HTTP status it came with."""
            if sizer is None:
                response, body = await self._request(template, path_params, query, True, frozenset())
                return body, response.status_code
            while True:
                try:
                    response, body = await self._request(
                        template, path_params, {**query, "limit": sizer.limit}, True, frozenset(),
                        sizer.max_body_bytes,
                    )
                except PageTooLarge as exc:
                    log.info("GET %s: page at limit=%d passed %d bytes; asking fewer", endpoint, sizer.limit,
                             exc.bytes_read)
                    sizer.too_large(exc.bytes_read)
                    continue
                data = body.get("data") if isinstance(body, dict) else None
                sizer.measured(len(response.content), len(data) if isinstance(data, list) else 0)
                return body, response.status_code

        first_query: dict[str, ParamValue] = {**(params or {}), **(first_page_params or {})}
        pending: asyncio.Task[tuple[Any, int]] | None = asyncio.ensure_future(fetch(first_query))
        try:
            while pending is not None:
                body, status = await pending
                pending = None
                page = parse_page(body, endpoint, status)
                del body
                if page.has_more:
                    next_cursor = page.last_id or _last_object_id(page.data)
                    if not next_cursor:
                        raise PaginationError(f"GET {endpoint}: has_more is true but the page gives no cursor")
                    if next_cursor in seen_cursors:
                        raise PaginationError(
                            f"GET {endpoint}: cursor {next_cursor!r} repeated; stopping to avoid a loop"
                        )
                    seen_cursors.add(next_cursor)
                    query: dict[str, ParamValue] = {**(params or {}), "after": next_cursor}
                    pending = asyncio.ensure_future(fetch(query))
                yield page
                # Drop our hold on this page before the next one is parsed: two parsed pages
                # alive at once would double the peak.
                del page
        finally:
            if pending is not None:
                pending.cancel()
                # Retrieve the outcome so an abandoned prefetch never logs "exception never retrieved".
                with contextlib.suppress(BaseException):
                    await pending


async def _read_capped(response: httpx.Response, max_bytes: int) -> None:
    """`Response.aread` that stops once the decoded body passes `max_bytes`."""
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > max_bytes:
            raise PageTooLarge(total)
        chunks.append(chunk)
    # What `aread` itself stores, so `.content` and `.json()` work as after a plain read.
    response._content = b"".join(chunks)


def _last_object_id(data: list[Any]) -> str | None:
    if data and isinstance(data[-1], dict):
        value = data[-1].get("id")
        return str(value) if value is not None else None
    return None


def parse_page(body: Any, endpoint: str, status: int | None = None) -> Page:
    """Read either list envelope (Admin: first_id/last_id; Compliance: last_id only).

    `has_more` must be a JSON boolean: the Admin spec requires it, the Compliance spec types it boolean
    and says to stop only when it is false. Missing, null or a string ("false") is not read as "no more":
    taking it for false would end the listing early and resolve findings on objects never listed.
    `status` is the HTTP status the body came with, for the error."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict | str) and "data" not in body:
        raise ApiError(endpoint, "response is an `error` object, not a list envelope", status=status)
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ApiError(endpoint, "response is not a list envelope (no `data` array)", status=status)
    has_more = body.get("has_more")
    if not isinstance(has_more, bool):
        shown = "missing" if "has_more" not in body else f"{type(has_more).__name__}, not a boolean"
        raise ApiError(endpoint, f"list envelope's `has_more` is {shown}", status=status)
    last_id = body.get("last_id")
    return Page(
        data=body["data"],
        has_more=has_more,
        last_id=str(last_id) if last_id is not None else None,
        raw=body,
        status=status,
    )
