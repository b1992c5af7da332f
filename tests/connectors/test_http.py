"""The GET-only HTTP layer: read-only enforcement, pagination, retries, quotas."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from openai_casb.connectors.errors import ApiError, PaginationError, ReadOnlyViolation
from openai_casb.connectors.http import ApiClient, GetOnlyTransport, read_only_client
from openai_casb.connectors.ratelimit import RollingWindowLimiter
from openai_casb.connectors.retry import RetryPolicy, retry_after_seconds

KEY = "sk-admin-PLANTEDsecretKeyForHttpTests0123456789"


class FakeTime:
    """A clock that only moves when someone sleeps: tests never wait for real."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(
    handler: Callable[[httpx.Request], httpx.Response],
    time: FakeTime,
    *,
    quota: int = 1000,
    policy: RetryPolicy | None = None,
    concurrency: int = 8,
) -> ApiClient:
    return ApiClient(
        name="admin",
        base_url="http://api.test/v1",
        key=SecretStr(KEY),
        quota_for=lambda _t: quota,
        limiter=RollingWindowLimiter(60.0, clock=time.clock, sleep=time.sleep),
        policy=policy or RetryPolicy(max_retries=4, budget_seconds=100),
        concurrency=concurrency,
        transport=httpx.MockTransport(handler),
        sleep=time.sleep,
        rng=random.Random(1),
    )


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_non_get_methods_are_refused_before_anything_is_sent() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    async def attempt(method: str) -> None:
        async with read_only_client(transport=httpx.MockTransport(handler)) as client:
            await client.request(method, "http://api.test/v1/organization/users/u1")

    for method in ("POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"):
        with pytest.raises(ReadOnlyViolation, match=method):
            run(attempt(method))
    assert sent == []
    assert not any(hasattr(ApiClient, name) for name in ("post", "delete", "put", "patch"))
    assert isinstance(read_only_client()._transport, GetOnlyTransport)


def test_pagination_follows_cursor_and_sends_since_only_first() -> None:
    time = FakeTime()
    seen: list[httpx.QueryParams] = []
    pages = {
        None: {"object": "list", "data": [{"id": "a"}, {"id": "b"}], "last_id": "b", "has_more": True},
        # A short page with has_more true is not the end.
        "b": {"object": "list", "data": [{"id": "c"}], "last_id": "c", "has_more": True},
        "c": {"object": "list", "data": [{"id": "d"}], "first_id": "d", "last_id": "d", "has_more": False},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params)
        return httpx.Response(200, json=pages[request.url.params.get("after")])

    async def go() -> list[str]:
        async with make_client(handler, time) as client:
            ids = []
            async for page in client.paginate("/c", params={"limit": 2}, first_page_params={"since_timestamp": 5}):
                ids.extend(item["id"] for item in page.data)
            return ids

    assert run(go()) == ["a", "b", "c", "d"]
    assert seen[0].get("since_timestamp") == "5"
    assert "after" not in seen[0]
    assert all("since_timestamp" not in p for p in seen[1:])
    assert [p.get("after") for p in seen[1:]] == ["b", "c"]


def test_repeating_cursor_fails_clearly() -> None:
    time = FakeTime()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"object": "list", "data": [{"id": "x"}], "last_id": "x", "has_more": True})

    async def go() -> None:
        async with make_client(handler, time) as client:
            async for _ in client.paginate("/loop"):
                pass

    with pytest.raises(PaginationError, match="repeated"):
        run(go())


def test_has_more_without_cursor_fails_clearly() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"object": "list", "data": [], "has_more": True})

    async def go() -> None:
        async with make_client(handler, FakeTime()) as client:
            async for _ in client.paginate("/empty"):
                pass

    with pytest.raises(PaginationError, match="no cursor"):
        run(go())


@pytest.mark.parametrize(
    ("fault", "expected_sleep"),
    [
        (lambda: httpx.Response(429, headers={"Retry-After": "7"}), 7.0),
        (lambda: httpx.Response(429, headers={"retry-after-ms": "1500", "Retry-After": "9"}), 1.5),
        (lambda: httpx.Response(503, text="<html>down</html>"), None),
        (lambda: httpx.Response(408), None),
        (lambda: httpx.Response(409), None),
        (lambda: httpx.Response(200, content=b'{"object": "list", "da'), None),
    ],
)
def test_transient_failures_are_retried(fault: Callable[[], httpx.Response], expected_sleep: float | None) -> None:
    time = FakeTime()
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return fault()
        return httpx.Response(200, json={"ok": True})

    async def go() -> Any:
        async with make_client(handler, time) as client:
            return await client.get_json("/thing")

    assert run(go()) == {"ok": True}
    assert calls == 2
    assert len(time.sleeps) == 1
    if expected_sleep is not None:
        assert time.sleeps[0] == pytest.approx(expected_sleep)
    else:
        assert 0.3 <= time.sleeps[0] <= 0.5


@pytest.mark.parametrize(
    "error", [httpx.ConnectError("reset"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("x")]
)
def test_network_errors_are_retried(error: Exception) -> None:
    time = FakeTime()
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise error
        return httpx.Response(200, json=[1])

    async def go() -> Any:
        async with make_client(handler, time) as client:
            return await client.get_json("/thing")

    assert run(go()) == [1]
    assert calls == 3
    assert time.sleeps[1] > time.sleeps[0]  # exponential


def test_retry_gives_up_with_endpoint_and_never_the_key() -> None:
    time = FakeTime()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"error": {"message": f"boom for {KEY}"}})

    async def go() -> None:
        async with make_client(handler, time, policy=RetryPolicy(max_retries=3, budget_seconds=100)) as client:
            await client.get_json("/organization/projects/{project_id}/api_keys", {"project_id": "p1"})

    with pytest.raises(ApiError) as caught:
        run(go())
    text = str(caught.value)
    assert "/organization/projects/{project_id}/api_keys" in text
    assert "gave up after 4 attempt(s)" in text
    assert KEY not in text
    assert KEY not in repr(caught.value)
    assert len(time.sleeps) == 3


def test_retry_budget_bounds_total_waiting() -> None:
    time = FakeTime()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "30"})

    async def go() -> None:
        async with make_client(handler, time, policy=RetryPolicy(max_retries=50, budget_seconds=70)) as client:
            await client.get_json("/x")

    with pytest.raises(ApiError, match="HTTP 429"):
        run(go())
    assert sum(time.sleeps) <= 70
    assert time.sleeps == [30, 30]


def test_client_errors_are_not_retried_and_scrub_keys() -> None:
    time = FakeTime()
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        assert request.headers["authorization"] == f"Bearer {KEY}"
        return httpx.Response(
            401, json={"error": {"message": f"Incorrect API key provided: {KEY}", "code": "invalid_api_key"}}
        )

    async def go() -> None:
        async with make_client(handler, time) as client:
            await client.get_json("/organization/users")

    with pytest.raises(ApiError) as caught:
        run(go())
    assert calls == 1
    assert caught.value.unauthorized
    assert caught.value.code == "invalid_api_key"
    assert KEY not in str(caught.value)
    assert "sk-admin..." in str(caught.value)


def test_retry_after_http_date() -> None:
    from datetime import UTC, datetime

    response = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2026 07:28:30 GMT"})
    now = datetime(2026, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert retry_after_seconds(response, now) == 30.0
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "soon"})) is None


def test_rate_limit_spaces_requests_per_template_in_rolling_window() -> None:
    time = FakeTime()
    stamps: dict[str, list[float]] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        stamps.setdefault(request.url.path, []).append(time.now)
        return httpx.Response(200, json={})

    async def go() -> None:
        async with make_client(handler, time, quota=3) as client:
            for _ in range(7):
                await client.get_json("/a")
            await client.get_json("/b")

    run(go())
    a = stamps["/v1/a"]
    assert len(a) == 7
    for i in range(len(a) - 3):
        assert a[i + 3] - a[i] >= 60.0  # never more than 3 in any 60 s window
    assert a[3] - a[0] < 61  # and no slower than needed
    assert len(stamps["/v1/b"]) == 1


def test_independent_requests_run_concurrently_within_bound() -> None:
    in_flight = 0
    peak = 0

    class SlowTransport(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1
            return httpx.Response(200, json={})

    async def go() -> None:
        client = ApiClient(
            name="admin",
            base_url="http://api.test/v1",
            key=SecretStr(KEY),
            quota_for=lambda _t: 1000,
            limiter=RollingWindowLimiter(60.0),
            policy=RetryPolicy(),
            concurrency=4,
            transport=SlowTransport(),
        )
        async with client:
            await asyncio.gather(*(client.get_json("/p/{id}", {"id": str(i)}) for i in range(12)))

    run(go())
    assert peak == 4


def test_repr_redacts_key() -> None:
    client = make_client(lambda r: httpx.Response(200), FakeTime())
    assert KEY not in repr(client)
    assert "sk-admin..." in repr(client)
    run(client.aclose())
