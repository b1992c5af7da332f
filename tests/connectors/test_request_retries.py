"""`ApiClient`'s retries, pinned case by case: what is retried and what is not, the exact delays
and budget, `stats`, the message when it gives up, and the debug log. `test_http.py` covers the
common cases; this file pins the rest so the retry loop can change shape without changing behaviour.

| outcome of one attempt                         | retried | reason in message / log             | status on give-up |
| ---------------------------------------------- | ------- | ----------------------------------- | ----------------- |
| status in `accept_statuses`, or 3xx            | no: returned as is (even 429)                                     |
| 408, 409, 429, >= 500                          | yes     | server's message, keys scrubbed     | that status       |
| other 4xx                                      | no: ApiError with the server's message and code                   |
| 2xx, `expect_json=False`                       | no: returned, body not parsed                                     |
| 2xx, body not JSON                             | yes     | "invalid or truncated JSON body"    | the 2xx status    |
| httpx timeout                                  | yes     | "timed out"                         | none              |
| other httpx transport error                    | yes     | "connection error (<type name>)"    | none              |
| httpx.DecodingError (bad Content-Encoding)     | no: propagates as is                                              |
| PageTooLarge, ReadOnlyViolation, anything else | no: propagates as is                                              |

Delay of retry n: the response's `retry-after-ms`/`Retry-After`, at most max_retry_after_seconds (a
longer one waits the cap), else min(base * 2^(n-1), cap) * (1 - 0.25 * rng.random()); for a 429 without
a usable delay, the last retry (n = max_retries) waits at least what is left of rate_window_seconds after
the waits so far. Computed (and a random number drawn when there is no server delay) before deciding to
give up. Gives up when n > max_retries or the waits so far plus this delay pass the budget.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fake_api import mock_client

from openai_casb.config import load_settings
from openai_casb.connectors.errors import ApiError, ReadOnlyViolation
from openai_casb.connectors.http import ApiClient, PageSizer
from openai_casb.connectors.retry import RetryPolicy
from openai_casb.connectors.session import retry_policy

KEY = "sk-admin-PLANTEDsecretKeyForRetryMatrix0123456789"
SEED = 5


class Calls:
    """Answers attempt n with `answers[n]` (the last one repeats) and records every wait."""

    def __init__(self, *answers: Callable[[], httpx.Response]) -> None:
        self.answers = answers
        self.count = 0
        self.sleeps: list[float] = []
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        answer = self.answers[min(self.count, len(self.answers) - 1)]
        self.count += 1
        self.requests.append(request)
        return answer()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def client(self, policy: RetryPolicy | None = None) -> ApiClient:
        return mock_client(KEY, httpx.MockTransport(self.handle), sleep=self.sleep, seed=SEED,
                           policy=policy or RetryPolicy(max_retries=4, budget_seconds=100))

    def get_json(self, policy: RetryPolicy | None = None) -> tuple[Any, ApiClient]:
        async def go() -> tuple[Any, ApiClient]:
            async with self.client(policy) as client:
                return await client.get_json("/x"), client

        return asyncio.run(go())

    def failure(self, policy: RetryPolicy | None = None) -> tuple[ApiError, ApiClient]:
        client = self.client(policy)

        async def go() -> None:
            async with client:
                await client.get_json("/x")

        with pytest.raises(ApiError) as caught:
            asyncio.run(go())
        return caught.value, client


def ok() -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


def error(status: int, message: str = "down") -> Callable[[], httpx.Response]:
    return lambda: httpx.Response(status, json={"error": {"message": message}})


def raising(exc: Exception) -> Callable[[], httpx.Response]:
    def answer() -> httpx.Response:
        raise exc

    return answer


def bad_gzip() -> httpx.Response:
    # A streamed body whose Content-Encoding does not match: httpx raises DecodingError on reading it.
    return httpx.Response(200, headers={"content-encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip"))


def backoffs(policy: RetryPolicy, count: int, seed: int = SEED) -> list[float]:
    """The SDK's backoff written out, independently of `RetryPolicy.backoff`."""
    rng = random.Random(seed)
    return [
        min(policy.backoff_base_seconds * 2 ** (n - 1), policy.backoff_cap_seconds) * (1 - 0.25 * rng.random())
        for n in range(1, count + 1)
    ]


def test_stats_count_retries_not_attempts() -> None:
    calls = Calls(error(503), raising(httpx.ConnectError("reset")), ok)
    body, client = calls.get_json()
    assert body == {"ok": True}
    assert (client.stats.requests, client.stats.retries) == (3, 2)
    assert len(calls.sleeps) == 2


def test_stats_on_giving_up() -> None:
    calls = Calls(error(500))
    _, client = calls.failure(RetryPolicy(max_retries=3, budget_seconds=100))
    assert (client.stats.requests, client.stats.retries) == (4, 3)


@pytest.mark.parametrize("sized", [False, True])
def test_decoding_errors_are_not_retried(sized: bool) -> None:
    """Whether the body is read whole or capped (a paginated read with a `PageSizer`)."""
    calls = Calls(bad_gzip, ok)
    client = calls.client()

    async def go() -> None:
        async with client:
            if sized:
                async for _ in client.paginate("/x", sizer=PageSizer(1_000_000, 10)):
                    pass
            else:
                await client.get_json("/x")

    with pytest.raises(httpx.DecodingError):
        asyncio.run(go())
    assert calls.count == 1
    assert calls.sleeps == []
    assert client.stats.retries == 0


@pytest.mark.parametrize("exc", [ReadOnlyViolation("refused"), RuntimeError("bug")], ids=["read-only", "other"])
def test_other_exceptions_propagate_unretried(exc: Exception) -> None:
    calls = Calls(raising(exc), ok)
    client = calls.client()

    async def go() -> None:
        async with client:
            await client.get_json("/x")

    with pytest.raises(type(exc)):
        asyncio.run(go())
    assert calls.count == 1
    assert client.stats.retries == 0


def test_page_too_large_is_not_retried() -> None:
    """The retry loop lets PageTooLarge through: the page sizer, not a retry, asks again with fewer."""
    calls = Calls(lambda: httpx.Response(200, json={"data": ["x" * 100], "has_more": False}))
    client = calls.client()

    async def go() -> list[list[Any]]:
        async with client:
            # Budget 5 bytes at limit 2: a body of more than 10 bytes is dropped, then read whole at limit 1.
            return [page.data async for page in client.paginate("/x", sizer=PageSizer(5, 2))]

    assert asyncio.run(go()) == [["x" * 100]]
    assert [request.url.params.get("limit") for request in calls.requests] == ["2", "1"]
    assert client.stats.retries == 0
    assert calls.sleeps == []


@pytest.mark.parametrize(
    ("answer", "message", "status"),
    [
        (
            error(503, f"down, key {KEY}"),
            "GET admin /x: HTTP 503: gave up after 3 attempt(s): down, key sk-admin...789",
            503,
        ),
        (
            lambda: httpx.Response(502, text="<html>bad gateway</html>"),
            "GET admin /x: HTTP 502: gave up after 3 attempt(s): Bad Gateway",
            502,
        ),
        (
            lambda: httpx.Response(200, content=b'{"da'),
            "GET admin /x: HTTP 200: gave up after 3 attempt(s): invalid or truncated JSON body",
            200,
        ),
        (
            raising(httpx.ConnectError(f"reset by http://api.test/v1/x?key={KEY}")),
            "GET admin /x: no response: gave up after 3 attempt(s): connection error (ConnectError)",
            None,
        ),
        (
            raising(httpx.ReadTimeout("slow")),
            "GET admin /x: no response: gave up after 3 attempt(s): timed out",
            None,
        ),
    ],
    ids=["5xx-json", "5xx-html", "bad-json", "connection", "timeout"],
)
def test_give_up_message_and_status(answer: Callable[[], httpx.Response], message: str, status: int | None) -> None:
    err, _ = Calls(answer).failure(RetryPolicy(max_retries=2, budget_seconds=100))
    assert str(err) == message
    assert err.status == status
    assert err.code is None
    assert KEY not in str(err)
    assert KEY not in repr(err)


def test_no_retries_allowed_means_one_attempt() -> None:
    calls = Calls(error(500))
    err, client = calls.failure(RetryPolicy(max_retries=0, budget_seconds=100))
    assert "gave up after 1 attempt(s): down" in str(err)
    assert calls.count == 1
    assert calls.sleeps == []
    assert client.stats.retries == 0


def test_backoff_sequence_is_exact_and_draws_before_giving_up() -> None:
    """Capped exponential backoff with jitter from the client's rng; the delay of the retry that is
    not made is still drawn, so a second request on the same client goes on from the 7th draw."""
    policy = RetryPolicy(max_retries=5, budget_seconds=100, backoff_base_seconds=0.5, backoff_cap_seconds=2.0)
    calls = Calls(raising(httpx.ConnectError("reset")))
    client = calls.client(policy)

    async def go() -> None:
        async with client:
            for _ in range(2):
                with pytest.raises(ApiError, match="gave up after 6 attempt"):
                    await client.get_json("/x")

    asyncio.run(go())
    rng = random.Random(SEED)
    draws = [rng.random() for _ in range(12)]
    caps = [0.5, 1.0, 2.0, 2.0, 2.0]
    # Request 1 sleeps on draws 0-4 and draws 5 for the retry it does not make; request 2 starts at
    # retry number 1 again, with the rng where request 1 left it.
    assert calls.sleeps[:5] == pytest.approx([cap * (1 - 0.25 * d) for cap, d in zip(caps, draws[0:5], strict=True)])
    assert calls.sleeps[5:] == pytest.approx([cap * (1 - 0.25 * d) for cap, d in zip(caps, draws[6:11], strict=True)])
    assert client.stats.retries == 10


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "12"}, 12.0),
        ({"Retry-After": "20"}, 20.0),  # exactly the cap: honoured
        ({"Retry-After": "21"}, 20.0),  # past the cap: the cap (it was a short backoff before)
        ({"Retry-After": "soon"}, None),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "x", "Retry-After": "3"}, 3.0),
        ({"Retry-After": "0"}, 0.0),
    ],
)
def test_retry_after_is_honoured_up_to_its_cap(headers: dict[str, str], expected: float | None) -> None:
    calls = Calls(lambda: httpx.Response(429, headers=headers), ok)
    calls.get_json(RetryPolicy(max_retries=4, budget_seconds=100, max_retry_after_seconds=20))
    assert calls.sleeps == pytest.approx([expected if expected is not None else backoffs(RetryPolicy(), 1)[0]])


def test_retry_after_on_a_bad_json_body_is_honoured() -> None:
    calls = Calls(lambda: httpx.Response(200, headers={"Retry-After": "3"}, content=b"{"), ok)
    body, _ = calls.get_json()
    assert body == {"ok": True}
    assert calls.sleeps == [3.0]


def test_budget_allows_waits_that_add_up_to_it_exactly() -> None:
    calls = Calls(lambda: httpx.Response(429, headers={"Retry-After": "35"}))
    err, client = calls.failure(RetryPolicy(max_retries=50, budget_seconds=70))
    assert calls.sleeps == [35.0, 35.0]
    assert "gave up after 3 attempt(s)" in str(err)
    assert client.stats.retries == 2


@pytest.mark.parametrize(
    ("answer", "accept", "expect_json", "status"),
    [
        (lambda: httpx.Response(429, headers={"Retry-After": "1"}), frozenset({429}), True, 429),
        (error(404), frozenset({404, 410}), True, 404),
        (lambda: httpx.Response(307, headers={"location": "https://blob.test/f"}), frozenset(), True, 307),
        (lambda: httpx.Response(200, content=b"not json"), frozenset(), False, 200),
    ],
    ids=["accepted-429", "accepted-404", "redirect", "raw-body"],
)
def test_returned_as_is(
    answer: Callable[[], httpx.Response], accept: frozenset[int], expect_json: bool, status: int
) -> None:
    calls = Calls(answer, ok)
    client = calls.client()

    async def go() -> httpx.Response:
        async with client:
            return await client.request("/x", expect_json=expect_json, accept_statuses=accept)

    assert asyncio.run(go()).status_code == status
    assert calls.count == 1
    assert calls.sleeps == []


def test_retry_is_logged_at_debug_by_the_http_module_without_the_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    calls = Calls(
        lambda: httpx.Response(429, headers={"Retry-After": "7"}, json={"error": {"message": f"slow down {KEY}"}}),
        raising(httpx.ConnectError(f"reset by http://api.test/v1/x?key={KEY}")),
        ok,
    )
    calls.get_json()
    retries = [r for r in caplog.records if r.getMessage().startswith("retrying")]
    assert [(r.name, r.levelno) for r in retries] == [("openai_casb.connectors.http", logging.DEBUG)] * 2
    assert retries[0].getMessage() == "retrying admin /x in 7.00s (attempt 1): slow down sk-admin...789"
    assert (
        retries[1].getMessage()
        == f"retrying admin /x in {calls.sleeps[1]:.2f}s (attempt 2): connection error (ConnectError)"
    )
    assert all(KEY not in r.getMessage() for r in caplog.records)


def test_a_429_without_a_delay_is_retried_a_last_time_once_the_rate_window_has_passed() -> None:
    """The Compliance API documents 429s but no Retry-After: giving up after the short backoffs (about
    14 s) would give up inside the 60 s window that refused the request."""
    policy = RetryPolicy(max_retries=4, budget_seconds=100, rate_window_seconds=60)
    calls = Calls(error(429, "Too many requests"))
    err, client = calls.failure(policy)
    short = backoffs(policy, 3)
    assert calls.sleeps[:3] == pytest.approx(short)
    assert calls.sleeps[3] == pytest.approx(60 - sum(short))
    assert sum(calls.sleeps) == pytest.approx(60)
    assert str(err) == "GET admin /x: HTTP 429: gave up after 5 attempt(s): Too many requests"
    assert client.stats.retries == 4


def test_a_429_for_one_rate_window_is_outwaited() -> None:
    window = 60.0
    calls = Calls(error(429))
    calls.answers = (lambda: error(429)() if sum(calls.sleeps) < window else ok(),)
    body, _ = calls.get_json(RetryPolicy(rate_window_seconds=window))
    assert body == {"ok": True}
    assert calls.count == 7  # max_retries=6: the 7th attempt comes after the window


def test_the_rate_window_applies_to_429_only() -> None:
    policy = RetryPolicy(max_retries=3, budget_seconds=100, rate_window_seconds=60)
    calls = Calls(error(503))
    calls.failure(policy)
    assert calls.sleeps == pytest.approx(backoffs(policy, 3))


def test_a_rate_window_the_budget_cannot_cover_gives_up() -> None:
    policy = RetryPolicy(max_retries=2, budget_seconds=30, rate_window_seconds=60)
    calls = Calls(error(429, "Too many requests"))
    err, _ = calls.failure(policy)
    assert calls.sleeps == pytest.approx(backoffs(policy, 1))
    assert str(err) == "GET admin /x: HTTP 429: gave up after 2 attempt(s): Too many requests"


def test_a_retry_after_past_the_cap_waits_the_cap_then_what_is_left() -> None:
    """Retry-After: 150 with a 120 s cap: the cap, then the server's remaining 30 s, instead of six short
    backoffs inside the window and a failure."""
    calls = Calls(
        lambda: httpx.Response(429, headers={"Retry-After": "150"}),
        lambda: httpx.Response(429, headers={"Retry-After": "30"}),
        ok,
    )
    body, _ = calls.get_json(RetryPolicy(budget_seconds=300, max_retry_after_seconds=120))
    assert body == {"ok": True}
    assert calls.sleeps == [120.0, 30.0]


def test_the_crawl_policy_takes_the_configured_rate_window_and_margin() -> None:
    settings = load_settings({"admin_key": KEY, "rate_window_seconds": 90, "rate_margin_seconds": 0.5}, None, {})
    assert retry_policy(settings).rate_window_seconds == 90.5
