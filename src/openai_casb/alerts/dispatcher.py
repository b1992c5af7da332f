"""Sends lifecycle events to webhook destinations: filtered, signed, retried, never twice.

The idempotency key of a delivery is the event id: a destination that already acknowledged an
event (per the delivery log) is not sent it again, however often `dispatch` sees it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from openai_casb import __version__
from openai_casb.alerts.config import BasicAuth, BearerAuth, WebhookDestination
from openai_casb.alerts.delivery_log import DeliveryLog, DeliveryRecord, DeliveryStatus
from openai_casb.alerts.netguard import DestinationRefused, Resolver, check_destination, resolve_host
from openai_casb.alerts.payloads import generic_payload, slack_payload
from openai_casb.alerts.signing import SIGNATURE_HEADER, signature_header
from openai_casb.alerts.transport import deadline, webhook_client
from openai_casb.exports.events import ordered_events
from openai_casb.exports.model import LifecycleEvent
from openai_casb.exports.safety import ensure_no_plain_secrets

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0
# A receiver's answer is read up to this many bytes (then the connection is closed), never decoded.
MAX_RESPONSE_BYTES = 64 * 1024
# After this many events in a row could not be delivered to a destination, a dispatch stops sending
# to it: the remaining events stay pending for the next dispatch.
BREAKER_FAILURES = 3
# A dispatch sends for at most this long in all; what is left stays pending for the next dispatch.
MAX_DISPATCH_SECONDS = 120.0
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
        monotonic: Callable[[], float] = time.monotonic,
        breaker_failures: int = BREAKER_FAILURES,
        max_dispatch_seconds: float = MAX_DISPATCH_SECONDS,
    ) -> None:
        self._destinations = [d for d in destinations if d.enabled]
        self._log = log
        # Redirects are not followed (a 3xx could point the signed request at an internal address),
        # and each attempt ends at its wall-clock deadline.
        self._client = client or webhook_client()
        self._resolver = resolver
        self._sleep = sleep
        self._clock = clock
        self._monotonic = monotonic
        self._breaker_failures = max(1, breaker_failures)
        self._max_dispatch_seconds = max_dispatch_seconds
        self._dispatch_end = float("inf")

    def dispatch(self, events: Iterable[LifecycleEvent]) -> list[DeliveryResult]:
        """Deliver every matching, not yet delivered event to every destination, oldest first."""
        ordered = ordered_events(events)
        return self.dispatch_each({d.name: ordered for d in self._destinations})

    def dispatch_each(self, events: Mapping[str, Sequence[LifecycleEvent]]) -> list[DeliveryResult]:
        """Like `dispatch`, with each destination's own events (by destination name), already in order.

        A destination stops being sent to, for this dispatch, after `breaker_failures` events in a
        row were not delivered, and every destination once the dispatch has run for
        `max_dispatch_seconds`: the events not tried are left pending (no record), for the next one.
        """
        self._dispatch_end = self._monotonic() + self._max_dispatch_seconds
        results: list[DeliveryResult] = []
        for destination in self._destinations:
            pending = [
                e
                for e in events.get(destination.name, ())
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
            failures_in_a_row = 0
            for index, event in enumerate(pending):
                if failures_in_a_row >= self._breaker_failures or self._time_left() <= 0:
                    reason = (
                        f"{failures_in_a_row} events in a row not delivered"
                        if failures_in_a_row >= self._breaker_failures
                        else "the dispatch's time is up"
                    )
                    logger.warning(
                        "webhook %s (%s): %s; %d event(s) left for the next dispatch",
                        destination.name,
                        display_url(destination),
                        reason,
                        len(pending) - index,
                    )
                    break
                result = self._deliver(destination, event)
                results.append(result)
                if result.status == "delivered":
                    failures_in_a_row = 0
                elif result.attempts > 0:  # the receiver's failure (not a payload that was never sent)
                    failures_in_a_row += 1
        return results

    def _time_left(self) -> float:
        return self._dispatch_end - self._monotonic()

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
        attempts = 0
        for attempt in range(1, destination.max_attempts + 1):
            if attempt > 1:
                pause = min(destination.backoff_seconds * 2 ** (attempt - 2), MAX_BACKOFF_SECONDS)
                if pause >= self._time_left():
                    self._dispatch_end = self._monotonic()  # no time for another attempt: the dispatch ends
                    break
                self._sleep(pause)
            allowed = min(destination.timeout_seconds, self._time_left())
            if allowed <= 0:
                break
            attempts = attempt
            try:
                http_status = self._post(destination, event, body, auth, allowed)
            except httpx.HTTPError as http_error:  # timeouts, connection errors, unreadable answers
                http_status, error = None, type(http_error).__name__
                continue
            if 200 <= http_status < 300:
                return self._finish(destination, event, "delivered", attempt, http_status, None)
            error = f"HTTP {http_status}"
            if http_status < 500 and http_status not in _RETRY_STATUSES:
                return self._finish(destination, event, "failed", attempt, http_status, error)
        if attempts == 0:
            error = "not sent: the dispatch's time was up"
        return self._finish(destination, event, "failed", attempts, http_status, error)

    def _post(
        self, destination: WebhookDestination, event: LifecycleEvent, body: bytes, auth: httpx.Auth, seconds: float
    ) -> int:
        """One attempt, over within `seconds` of wall-clock time: the answer's status.

        The answer's body is neither decoded nor kept: at most MAX_RESPONSE_BYTES of it are read
        (so that the connection can be reused), then it is dropped.
        """
        end = self._monotonic() + seconds
        # Signed per attempt so that a retry late in the backoff still falls inside the replay window.
        headers = self._headers(destination, event, body)
        with (
            deadline(seconds),
            self._client.stream(
                "POST", str(destination.url), content=body, headers=headers, auth=auth, timeout=seconds
            ) as response,
        ):
            read = 0
            try:
                for chunk in response.iter_raw():
                    read += len(chunk)
                    if read >= MAX_RESPONSE_BYTES or self._monotonic() >= end:
                        break
            except httpx.HTTPError:
                pass  # the status is what counts; a body cut off at the deadline changes nothing
            return response.status_code

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
