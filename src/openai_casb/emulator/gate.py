"""The outermost ASGI layer: read-only refusal, auth, workspace check, quotas, latency and faults.

It sits outside Starlette so a `reset` fault can drop the connection before any response byte,
and so every request, matched or not, is counted once in the stats.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from starlette.routing import Match, Route

from openai_casb.emulator.config import EmulatorConfig
from openai_casb.emulator.errors import error_body
from openai_casb.emulator.faults import EndpointKind, FaultInjector
from openai_casb.emulator.org import Org
from openai_casb.emulator.ratelimit import RollingWindowLimiter
from openai_casb.emulator.stats import Stats

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COMPLIANCE_LIST_QUOTA = 50
COMPLIANCE_SINGLE_QUOTA = 100


@dataclass(frozen=True)
class Endpoint:
    route: Route
    api: str  # "admin" | "compliance" | "public"
    kind: str  # "list" | "conversations" | "single" | "file" | "public"


class ConnectionDropped(ConnectionResetError):
    """Raised when the server gives no way to drop the socket (e.g. an in-process test transport)."""


async def _send_json(send: Send, status: int, body: object, headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


class Gate:
    def __init__(self, app: ASGIApp, endpoints: list[Endpoint], org: Org, config: EmulatorConfig, stats: Stats) -> None:
        self._app = app
        self._endpoints = endpoints
        self._org = org
        self._config = config
        self._stats = stats
        self._limiter = RollingWindowLimiter(config.clock)
        self._faults = FaultInjector(config.fault_rate, config.fault_seed, config.fault_kinds)
        self._jitter = random.Random(config.fault_seed ^ 0x5EED)

    def _match(self, scope: Scope) -> tuple[Endpoint | None, dict[str, Any]]:
        probe = {**scope, "method": "GET"}
        for endpoint in self._endpoints:
            match, child = endpoint.route.matches(probe)
            if match is Match.FULL:
                return endpoint, child.get("path_params", {})
        return None, {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        endpoint, path_params = self._match(scope)
        template = endpoint.route.path if endpoint else "<unmatched>"
        method = scope["method"]
        status_seen: list[int] = []

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_seen.append(message["status"])
            await send(message)

        try:
            await self._handle(scope, receive, counting_send, send, endpoint, path_params)
        finally:
            # A dropped connection has no status; it is counted as 0.
            self._stats.record(method, template, status_seen[0] if status_seen else 0)

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        raw_send: Send,
        endpoint: Endpoint | None,
        path_params: dict[str, Any],
    ) -> None:
        if scope["method"] != "GET":
            self._stats.refused()
            await _send_json(
                send,
                405,
                error_body(
                    "This emulator is read-only: only GET is allowed.",
                    "invalid_request_error",
                    None,
                    "method_not_allowed",
                ),
                {"allow": "GET"},
            )
            return
        if endpoint is None or endpoint.api == "public":
            await self._app(scope, receive, send)
            return
        if self._config.latency_ms > 0:
            await asyncio.sleep(self._config.latency_ms * self._jitter.uniform(0.5, 1.5) / 1000.0)
        key = self._bearer(scope)
        denial = self._authorize(endpoint.api, key, path_params)
        if denial is not None:
            status, body = denial
            await _send_json(send, status, body)
            return
        assert key is not None
        retry_after = self._limiter.try_acquire(key, endpoint.route.path, self._quota(endpoint))
        if retry_after is not None:
            await self._too_many(send, retry_after)
            return
        fault = self._faults.draw(
            key,
            endpoint.route.path,
            EndpointKind(endpoint.kind in ("list", "conversations"), endpoint.kind == "conversations"),
        )
        if fault is not None:
            self._stats.fault(fault)
            if await self._inject(fault, send, raw_send):
                return
        scope.setdefault("state", {})["fault"] = fault
        if fault == "truncated":
            await self._app(scope, receive, _truncating(send))
        else:
            await self._app(scope, receive, send)

    async def _too_many(self, send: Send, retry_after: int) -> None:
        self._stats.throttled()
        body = error_body(
            "Rate limit reached for requests. Please try again later.", "requests", None, "rate_limit_exceeded"
        )
        await _send_json(send, 429, body, {"retry-after": str(retry_after)})

    async def _inject(self, fault: str, send: Send, raw_send: Send) -> bool:
        """Apply a gate-level fault; True when the request is fully answered (or dropped)."""
        if fault == "burst429":
            await self._too_many(send, 1)
            return True
        if fault.startswith("error"):
            status = int(fault.removeprefix("error"))
            await _send_json(
                send, status, error_body("The server had an error processing your request.", "server_error", None, None)
            )
            return True
        if fault == "reset":
            transport = getattr(getattr(raw_send, "__self__", None), "transport", None)
            if transport is None:
                raise ConnectionDropped("emulated connection reset")
            transport.abort()
            return True
        if fault == "stall":
            await asyncio.sleep(self._config.stall_seconds)
        return False

    @staticmethod
    def _bearer(scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                text: str = value.decode("latin-1")
                if text[:7].lower() == "bearer ":
                    return text[7:].strip()
        return None

    def _authorize(self, api: str, key: str | None, path_params: dict[str, Any]) -> tuple[int, object] | None:
        config = self._config
        if key is None:
            return 401, error_body(
                "You didn't provide an API key. Provide it in the Authorization header as 'Bearer YOUR_KEY'.",
                "invalid_request_error",
                None,
                "missing_api_key",
            )
        invalid = (401, error_body("Incorrect API key provided.", "invalid_request_error", None, "invalid_api_key"))
        if api == "admin":
            return None if key == config.admin_key else invalid
        if key == config.compliance_key:
            workspace = path_params.get("workspace_id")
            if workspace is not None and workspace != self._org.workspace_id:
                return 404, error_body(
                    f"Workspace '{workspace}' was not found.", "invalid_request_error", "workspace_id", "not_found"
                )
            return None
        if key == config.admin_key:
            return 403, error_body(
                "This API key does not have the Compliance API scope (chatgpt.enterprise.compliance_export: read).",
                "invalid_request_error",
                None,
                "insufficient_permissions",
            )
        return invalid

    def _quota(self, endpoint: Endpoint) -> int:
        if endpoint.api == "admin":
            base = self._config.admin_rate_per_min
        elif endpoint.kind in ("list", "conversations"):
            base = COMPLIANCE_LIST_QUOTA
        else:
            base = COMPLIANCE_SINGLE_QUOTA
        return max(1, int(base * self._config.rate_limit_scale))


def _truncating(send: Send) -> Send:
    """Send the response with its JSON body cut in half (a well-formed HTTP message, a broken JSON document)."""
    start: list[Message] = []
    chunks: list[bytes] = []

    async def truncating_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.append(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        cut = body[: max(1, len(body) // 2)]
        head = dict(start[0])
        head["headers"] = [(k, v) for k, v in head.get("headers", []) if k.lower() != b"content-length"]
        head["headers"].append((b"content-length", str(len(cut)).encode()))
        await send(head)
        await send({"type": "http.response.body", "body": cut})

    return truncating_send
