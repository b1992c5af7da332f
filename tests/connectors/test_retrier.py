"""`Retrier` as signed downloads and Logs Platform files use it (no hooks): what it retries, how long
it waits, and what it says when it gives up."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

import httpx
import pytest

from openai_casb.connectors.retry import Retrier, RetriesExhausted, RetryPolicy, Transient

SIGNED = "https://blob.test/f?sig=SIGNATURESECRET"


class Attempts:
    def __init__(self, *outcomes: Callable[[], str]) -> None:
        self.outcomes = outcomes
        self.count = 0
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def attempt(self) -> str:
        outcome = self.outcomes[min(self.count, len(self.outcomes) - 1)]
        self.count += 1
        return outcome()

    def run(self, policy: RetryPolicy | None = None) -> str:
        retrier = Retrier(policy or RetryPolicy(max_retries=3, budget_seconds=100), self.sleep, random.Random(2))
        return asyncio.run(retrier.run(self.attempt, "signed URL of file-1"))


def raising(exc: Exception) -> Callable[[], str]:
    def outcome() -> str:
        raise exc

    return outcome


def done() -> str:
    return "done"


@pytest.mark.parametrize(
    "exc",
    [
        Transient("HTTP 503", 503),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError(f"reset {SIGNED}"),
        httpx.DecodingError(f"bad gzip from {SIGNED}"),
    ],
    ids=["transient", "timeout", "connection", "decoding"],
)
def test_retried_by_default(exc: Exception) -> None:
    attempts = Attempts(raising(exc), done)
    assert attempts.run() == "done"
    assert attempts.count == 2
    assert len(attempts.sleeps) == 1


def test_anything_else_propagates_at_once() -> None:
    attempts = Attempts(raising(ValueError("bad file")), done)
    with pytest.raises(ValueError, match="bad file"):
        attempts.run()
    assert attempts.count == 1


def test_transient_response_asks_for_the_delay() -> None:
    response = httpx.Response(429, headers={"Retry-After": "4"})
    attempts = Attempts(raising(Transient("HTTP 429", 429, response)), done)
    attempts.run()
    assert attempts.sleeps == [4.0]


@pytest.mark.parametrize(
    ("exc", "reason", "status"),
    [
        (Transient("HTTP 503", 503), "HTTP 503", 503),
        (httpx.ReadTimeout("slow"), "timed out", None),
        (httpx.ConnectError(f"reset {SIGNED}"), "connection error (ConnectError)", None),
        (httpx.DecodingError(f"bad gzip from {SIGNED}"), "connection error (DecodingError)", None),
    ],
)
def test_gives_up_with_the_last_reason_never_the_url(
    exc: Exception, reason: str, status: int | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    attempts = Attempts(raising(exc))
    with pytest.raises(RetriesExhausted) as caught:
        attempts.run(RetryPolicy(max_retries=2, budget_seconds=100))
    assert str(caught.value) == f"gave up after 3 attempt(s): {reason}"
    assert (caught.value.attempts, caught.value.status) == (3, status)
    assert len(attempts.sleeps) == 2
    logged = [r for r in caplog.records if r.name == "openai_casb.connectors.retry"]
    assert [r.getMessage() for r in logged] == [
        f"retrying signed URL of file-1 in {delay:.2f}s (attempt {n}): {reason}"
        for n, delay in enumerate(attempts.sleeps, start=1)
    ]
    assert all("SIGNATURESECRET" not in r.getMessage() for r in caplog.records)


def test_hooks_narrow_what_is_retried_count_retries_and_pick_the_logger(caplog: pytest.LogCaptureFixture) -> None:
    """What `ApiClient` sets: undecodable bodies propagate, each retry is reported before its wait."""
    caplog.set_level(logging.DEBUG)
    seen: list[tuple[str, int, float]] = []
    mine = logging.getLogger("tests.retrier.hooks")
    transient = Transient("HTTP 503", 503)
    attempts = Attempts(raising(transient), raising(httpx.ReadError("dropped")), done)
    retrier = Retrier(
        RetryPolicy(max_retries=3, budget_seconds=100),
        attempts.sleep,
        random.Random(2),
        connection_errors=(httpx.TransportError,),
        on_retry=lambda failure, number, delay: seen.append((failure.reason, number, delay)),
        logger=mine,
    )
    assert asyncio.run(retrier.run(attempts.attempt, "thing")) == "done"
    assert seen == [("HTTP 503", 1, attempts.sleeps[0]), ("connection error (ReadError)", 2, attempts.sleeps[1])]
    assert {r.name for r in caplog.records if r.getMessage().startswith("retrying")} == {"tests.retrier.hooks"}

    undecodable = Attempts(raising(httpx.DecodingError("bad gzip")), done)
    with pytest.raises(httpx.DecodingError):
        asyncio.run(retrier.run(undecodable.attempt, "thing"))
    assert undecodable.count == 1
