"""When and how long to wait before retrying a GET: the policy of OpenAI's own SDK, bounded."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({408, 409, 429})


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or status >= 500


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 6
    budget_seconds: float = 300.0  # total time spent waiting between attempts of one request
    backoff_base_seconds: float = 0.5
    backoff_cap_seconds: float = 8.0
    max_retry_after_seconds: float = 120.0
    # The servers' rate-limit window: a 429 that gives no usable delay is retried a last time only
    # once this long has been waited in all (the Compliance spec documents 429s, no Retry-After).
    rate_window_seconds: float = 60.0

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """Exponential backoff with full jitter in its upper quarter, as the SDK does."""
        delay: float = min(self.backoff_base_seconds * 2.0 ** max(retry_number - 1, 0), self.backoff_cap_seconds)
        return delay * (1 - 0.25 * rng.random())

    def delay(
        self, retry_number: int, response: httpx.Response | None, rng: random.Random, waited: float = 0.0
    ) -> float:
        """The wait before retry `retry_number`, `waited` seconds having been waited before it.

        The server's delay when it gives one, at most `max_retry_after_seconds` (a longer one is
        waited up to the cap, not replaced by a short backoff). Else the backoff; and for a 429, the
        last retry (`max_retries`) waits until `rate_window_seconds` have passed in all, so the
        request is not given up inside the quota window that refused it. A random number is drawn
        exactly when there is no server delay."""
        server = retry_after_seconds(response) if response is not None else None
        if server is not None:
            return min(server, self.max_retry_after_seconds)
        backoff = self.backoff(retry_number, rng)
        if response is not None and response.status_code == 429 and retry_number >= self.max_retries:
            return max(backoff, self.rate_window_seconds - waited)
        return backoff


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """The server's requested delay: `retry-after-ms`, else `Retry-After` in seconds or as an HTTP date."""
    millis = response.headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(float(millis) / 1000.0, 0.0)
        except ValueError:
            pass
    header = response.headers.get("retry-after")
    if header is None:
        return None
    try:
        return max(float(header), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")


class Transient(Exception):
    """An attempt failed in a way worth retrying. `response` (if any) may ask for a delay."""

    def __init__(self, reason: str, status: int | None = None, response: httpx.Response | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.response = response


class RetriesExhausted(Exception):
    """The last transient failure, once `max_retries` or the waiting budget is spent."""

    def __init__(self, attempts: int, last: Transient) -> None:
        super().__init__(f"gave up after {attempts} attempt(s): {last.reason}")
        self.attempts = attempts
        self.status = last.status


OnRetry = Callable[[Transient, int, float], None]

# What `Retrier` retries besides `Transient` and timeouts, by default: a connection dropped or
# refused, and a body whose Content-Encoding does not decode (cut short in transit).
CONNECTION_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError, httpx.DecodingError)


@dataclass(frozen=True, slots=True)
class Retrier:
    """Runs one attempt until it succeeds, under a policy: the one retry loop of every GET
    (`ApiClient`, signed URLs, bodies checked after the fact), so every path retries and waits the same way.

    `connection_errors` are the httpx errors retried as "connection error (<type>)"; `ApiClient` leaves
    out `httpx.DecodingError`. `on_retry(failure, retry_number, delay)` is called before each wait
    (`ApiClient` counts its retries there). `logger` gets the debug line of each retry."""

    policy: RetryPolicy
    sleep: Sleep
    rng: random.Random
    connection_errors: tuple[type[Exception], ...] = CONNECTION_ERRORS
    on_retry: OnRetry | None = None
    logger: logging.Logger = log

    async def run(self, attempt: Callable[[], Awaitable[T]], what: str) -> T:
        """Retries on `Transient`, timeouts and `connection_errors`; anything else propagates at once.
        Raises `RetriesExhausted` when the policy says stop. `what` names the request in the debug log;
        never pass a URL."""
        retry_number = 0
        waited = 0.0
        while True:
            try:
                return await attempt()
            except Transient as exc:
                failure = exc
            except httpx.TimeoutException:
                failure = Transient("timed out")
            except self.connection_errors as exc:
                # The type only: an httpx message may quote the URL, and a signed URL's query is a credential.
                failure = Transient(f"connection error ({type(exc).__name__})")
            # Drawn before deciding to stop, so the rng moves the same whether or not this retry is made.
            delay = self.policy.delay(retry_number + 1, failure.response, self.rng, waited)
            if retry_number >= self.policy.max_retries or waited + delay > self.policy.budget_seconds:
                raise RetriesExhausted(retry_number + 1, failure)
            self.logger.debug("retrying %s in %.2fs (attempt %d): %s", what, delay, retry_number + 1, failure.reason)
            retry_number += 1
            if self.on_retry is not None:
                self.on_retry(failure, retry_number, delay)
            waited += delay
            await self.sleep(delay)
