"""Sends lifecycle events to webhook destinations: filtered, signed, retried, never twice.

The idempotency key of a delivery is the event id: a destination that already acknowledged an
event (per the delivery log) is not sent it again, however often `dispatch` sees it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from openai_casb import __version__
from openai_casb.alerts.config import BasicAuth, BearerAuth, WebhookDestination
from openai_casb.alerts.delivery_log import DeliveryLog, DeliveryRecord, DeliveryStatus
from openai_casb.alerts.netguard import DestinationRefused, Resolver, check_destination, resolve_host
from openai_casb.alerts.payloads import generic_payload, slack_payload
from openai_casb.alerts.signing import SIGNATURE_HEADER, signature_header
from openai_casb.exports.events import ordered_events
from openai_casb.exports.model import LifecycleEvent
from openai_casb.exports.safety import ensure_no_plain_secrets

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0
_RETRY_STATUSES = frozenset({408, 425, 429})  # plus every 5xx


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    destination: str
    event_id: str
    status: DeliveryStatus
    attempts: int = 0
    http_status: int | None = None
    error: str | None = None


def display_url(destination: WebhookDestination) -> str:
    """Scheme, host and port only: paths of e.g. Slack incoming webhooks are themselves secrets."""
    url = destination.url
    port = f":{url.port}" if url.port and url.port not in (80, 443) else ""
    return f"{url.scheme}://{url.host}{port}/…"


def matches(destination: WebhookDestination, event: LifecycleEvent) -> bool:
    filters = destination.filters
    return (
        event.severity >= filters.min_severity
        and (not filters.finding_types or event.finding_type_id in filters.finding_types)
        and (not filters.event_types or event.event_type in filters.event_types)
    )


def render_body(destination: WebhookDestination, event: LifecycleEvent) -> bytes:
    payload = slack_payload(event) if destination.format == "slack" else generic_payload(event)
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return ensure_no_plain_secrets(text, "webhook payload").encode("utf-8")


class WebhookDispatcher:
    def __init__(
        self,
        destinations: Sequence[WebhookDestination],
        log: DeliveryLog,
        *,
        client: httpx.Client | None = None,
        resolver: Resolver = resolve_host,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._destinations = [d for d in destinations if d.enabled]
        self._log = log
        # Redirects are not followed: a 3xx could point the signed request at an internal address.
        self._client = client or httpx.Client(follow_redirects=False)
        self._resolver = resolver
        self._sleep = sleep
        self._clock = clock

    def dispatch(self, events: Iterable[LifecycleEvent]) -> list[DeliveryResult]:
        """Deliver every matching, not yet delivered event to every destination, oldest first."""
        ordered = ordered_events(events)
        results: list[DeliveryResult] = []
        for destination in self._destinations:
            pending = [
                e
                for e in ordered
                if matches(destination, e) and not self._log.was_delivered(destination.name, e.event_id)
            ]
            if not pending:
                continue
            url = destination.url
            try:
                check_destination(url.host or "", url.port or 443, destination.allow_private, self._resolver)
            except DestinationRefused as refusal:
                logger.warning("webhook %s refused: %s", destination.name, refusal)
                for event in pending:
                    results.append(self._finish(destination, event, "refused", 0, None, str(refusal)))
                continue
            for event in pending:
                results.append(self._deliver(destination, event))
        return results

    def _headers(self, destination: WebhookDestination, event: LifecycleEvent, body: bytes) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"openai-casb/{__version__}",
            "X-OpenAI-CASB-Event-Id": event.event_id,
            "Idempotency-Key": event.event_id,
        }
        if destination.secret is not None:
            headers[SIGNATURE_HEADER] = signature_header(
                destination.secret.get_secret_value(), int(self._clock()), body
            )
        return headers

    def _auth(self, destination: WebhookDestination) -> httpx.Auth:
        auth = destination.auth
        if isinstance(auth, BasicAuth):
            return httpx.BasicAuth(auth.username, auth.password.get_secret_value())
        if isinstance(auth, BearerAuth):
            return _Bearer(auth.token.get_secret_value())
        return httpx.Auth()  # the base class sends the request unchanged

    def _deliver(self, destination: WebhookDestination, event: LifecycleEvent) -> DeliveryResult:
        try:
            body = render_body(destination, event)
        except ValueError as refusal:  # a payload that would leak a secret is never sent
            return self._finish(destination, event, "failed", 0, None, str(refusal))
        auth = self._auth(destination)
        http_status: int | None = None
        error: str | None = None
        for attempt in range(1, destination.max_attempts + 1):
            if attempt > 1:
                self._sleep(min(destination.backoff_seconds * 2 ** (attempt - 2), MAX_BACKOFF_SECONDS))
            try:
                # Signed per attempt so that a retry late in the backoff still falls inside the replay window.
                response = self._client.post(
                    str(destination.url),
                    content=body,
                    headers=self._headers(destination, event, body),
                    auth=auth,
                    timeout=destination.timeout_seconds,
                )
            except httpx.TransportError as transport_error:  # timeouts and connection errors
                http_status, error = None, type(transport_error).__name__
                continue
            http_status = response.status_code
            if 200 <= http_status < 300:
                return self._finish(destination, event, "delivered", attempt, http_status, None)
            error = f"HTTP {http_status}"
            if http_status < 500 and http_status not in _RETRY_STATUSES:
                return self._finish(destination, event, "failed", attempt, http_status, error)
        return self._finish(destination, event, "failed", destination.max_attempts, http_status, error)

    def _finish(
        self,
        destination: WebhookDestination,
        event: LifecycleEvent,
        status: DeliveryStatus,
        attempts: int,
        http_status: int | None,
        error: str | None,
    ) -> DeliveryResult:
        self._log.record(
            DeliveryRecord(
                destination=destination.name,
                event_id=event.event_id,
                status=status,
                attempts=attempts,
                at=datetime.fromtimestamp(self._clock(), tz=UTC),
                http_status=http_status,
                error=error,
            )
        )
        if status != "delivered":
            logger.warning(
                "webhook %s (%s): event %s %s after %d attempt(s): %s",
                destination.name, display_url(destination), event.event_id, status, attempts, error,
            )  # fmt: skip
        return DeliveryResult(destination.name, event.event_id, status, attempts, http_status, error)

    def close(self) -> None:
        self._client.close()


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "_Bearer(token=***)"
