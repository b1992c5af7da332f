"""Logs Platform files: both hops (the API's 307 and the signed URL) are retried like every other GET,
a body cut short is fetched again, and the signed host never sees the key nor an error its query."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest
from fake_api import mock_client

from openai_casb.connectors.errors import ApiError
from openai_casb.connectors.http import read_only_client
from openai_casb.connectors.readers import ComplianceReader
from openai_casb.connectors.retry import RetryPolicy

KEY = "sk-comp-PLANTEDsecretKeyForLogFileTests0123456789"
WORKSPACE = "ws-1"
LOG_PATH = f"/v1/compliance/workspaces/{WORKSPACE}/logs/log-1"
SIGNED = "https://blob.test/logs/log-1.jsonl?sig=SIGNATURESECRET&se=2026"
RECORDS = [{"event_id": f"evt-{n}", "type": "CONVERSATION_MESSAGE", "text": "x" * (10 + 7 * n)} for n in range(4)]
BODY = b"".join(json.dumps(r).encode() + b"\n" for r in RECORDS)
HALF = BODY[: len(BODY) // 2]  # what the emulator's `truncated` fault sends, Content-Length and all
assert not HALF.endswith(b"\n")  # cut inside a line, the case a reader can tell

Handler = Callable[[httpx.Request, int], httpx.Response]


class Recorder:
    """Counts requests per host and records every wait; nothing waits for real."""

    def __init__(self, api: Handler, blob: Handler | None = None) -> None:
        self.api = api
        self.blob = blob
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def calls(self, host: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == host]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "api.test":
            assert request.url.path == LOG_PATH
            return self.api(request, len(self.calls("api.test")))
        assert self.blob is not None
        assert request.url.host == "blob.test"
        return self.blob(request, len(self.calls("blob.test")))

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def read(self, policy: RetryPolicy | None = None) -> list[dict[str, object]]:
        async def go() -> list[dict[str, object]]:
            transport = httpx.MockTransport(self.handle)
            client = mock_client(KEY, transport, name="compliance", sleep=self.sleep,
                                 policy=policy or RetryPolicy(max_retries=4, budget_seconds=100))
            async with client, read_only_client(transport=transport) as bare:
                return await ComplianceReader(client, WORKSPACE, bare).log_records("log-1")

        return asyncio.run(go())


def redirect(_request: httpx.Request, _n: int) -> httpx.Response:
    return httpx.Response(307, headers={"location": SIGNED})


def blob_ok(_request: httpx.Request, _n: int) -> httpx.Response:
    return httpx.Response(200, content=BODY)


def test_signed_url_503_is_retried_after_its_retry_after_without_asking_the_api_again() -> None:
    def blob(request: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(503, headers={"retry-after": "1"}) if n == 1 else blob_ok(request, n)

    rec = Recorder(redirect, blob)
    assert rec.read() == RECORDS
    assert len(rec.calls("blob.test")) == 2
    assert len(rec.calls("api.test")) == 1  # the signed URL is still good: no new quota spent
    assert rec.sleeps == [1.0]
    assert all("authorization" not in r.headers for r in rec.calls("blob.test"))
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in rec.calls("api.test"))


def test_api_503_before_the_redirect_is_retried() -> None:
    def api(request: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(503, headers={"retry-after-ms": "250"}) if n == 1 else redirect(request, n)

    rec = Recorder(api, blob_ok)
    assert rec.read() == RECORDS
    assert len(rec.calls("api.test")) == 2
    assert rec.sleeps == [0.25]


def test_truncated_direct_body_is_fetched_again() -> None:
    def api(_request: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(200, content=HALF if n == 1 else BODY)

    rec = Recorder(api)
    assert rec.read() == RECORDS
    assert len(rec.calls("api.test")) == 2


def test_truncated_signed_body_is_fetched_again_from_the_signed_url() -> None:
    def blob(_request: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(200, content=HALF if n == 1 else BODY)

    rec = Recorder(redirect, blob)
    assert rec.read() == RECORDS
    assert (len(rec.calls("api.test")), len(rec.calls("blob.test"))) == (1, 2)


@pytest.mark.parametrize("error", [httpx.ReadError, httpx.RemoteProtocolError, httpx.ReadTimeout])
def test_reset_or_timeout_on_the_signed_hop_is_retried(error: type[httpx.TransportError]) -> None:
    def blob(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            raise error(f"dropped while reading {SIGNED}", request=request)
        return blob_ok(request, n)

    rec = Recorder(redirect, blob)
    assert rec.read() == RECORDS
    assert len(rec.calls("blob.test")) == 2


def test_reset_on_the_api_hop_is_retried() -> None:
    def api(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            raise httpx.ReadError("connection reset", request=request)
        return httpx.Response(200, content=BODY)

    rec = Recorder(api)
    assert rec.read() == RECORDS


def test_exhausted_budget_names_the_endpoint_never_the_signed_query() -> None:
    def blob(request: httpx.Request, n: int) -> httpx.Response:
        if n % 2:
            raise httpx.ConnectError(f"cannot reach {SIGNED}", request=request)
        return httpx.Response(503, text=f"overloaded {SIGNED}")

    rec = Recorder(redirect, blob)
    with pytest.raises(ApiError) as caught:
        rec.read(RetryPolicy(max_retries=3, budget_seconds=100))
    error = caught.value
    assert error.status == 503
    assert error.endpoint == "compliance /compliance/workspaces/{workspace_id}/logs/{log_file_id}"
    assert "gave up after 4 attempt(s)" in str(error)
    assert "SIGNATURESECRET" not in str(error)
    assert "blob.test" not in str(error)
    assert KEY not in str(error)
    assert len(rec.calls("blob.test")) == 4


def test_truncation_every_time_ends_in_a_clear_error() -> None:
    rec = Recorder(lambda _r, _n: httpx.Response(200, content=HALF))
    with pytest.raises(ApiError, match=r"gave up after 3 attempt\(s\): log file truncated"):
        rec.read(RetryPolicy(max_retries=2, budget_seconds=100))
    assert len(rec.calls("api.test")) == 3


def test_a_signed_url_refusal_is_not_retried() -> None:
    rec = Recorder(redirect, lambda _r, _n: httpx.Response(403))
    with pytest.raises(ApiError, match="signed log file URL failed") as caught:
        rec.read()
    assert caught.value.status == 403
    assert len(rec.calls("blob.test")) == 1


def test_a_malformed_line_inside_the_file_is_not_taken_for_truncation() -> None:
    body = BODY + b"not json\n" + BODY
    rec = Recorder(lambda _r, _n: httpx.Response(200, content=body))
    with pytest.raises(ApiError, match="log file line 5 is not JSON"):
        rec.read()
    assert len(rec.calls("api.test")) == 1


def test_a_complete_last_line_without_newline_is_accepted() -> None:
    rec = Recorder(lambda _r, _n: httpx.Response(200, content=BODY.rstrip(b"\n")))
    assert rec.read() == RECORDS
    assert len(rec.calls("api.test")) == 1
