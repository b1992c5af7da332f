"""File downloads: listed URL first, endpoint 307 without the key, expiry, size cap."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_api import COMPLIANCE_KEY, FakeApi, fake_settings, no_wait

from openai_casb.connectors.downloads import DownloadResult, make_downloader
from openai_casb.connectors.session import open_clients
from openai_casb.inventory.model import AssetKind, FileRef


def fetch(api: FakeApi, ref: FileRef, dest: Path, **kwargs: Any) -> DownloadResult:
    settings = fake_settings(max_retries=2)

    async def go() -> DownloadResult:
        async with open_clients(settings, transport=api.transport(), sleep=no_wait) as clients:
            return await make_downloader(settings, clients, sleep=no_wait).download(ref, dest, **kwargs)

    return asyncio.run(go())


LISTED_AT = datetime(2026, 11, 1, tzinfo=UTC)


def ref(file_id: str, kind: AssetKind = AssetKind.CONVERSATION_FILE, url: str | None = None) -> FileRef:
    """A live file (listed with its created_at); `url` None as when its listed URL is not usable."""
    return FileRef(
        kind=kind, file_id=file_id, name="x", container_id="conv-1", owner_user_id="user-AAAA", download_url=url,
        created_at=LISTED_AT,
    )


def test_expired_chat_upload_is_known_from_its_listing_without_a_request(tmp_path: Path) -> None:
    """Spec 1.1.5: an expired upload is listed with created_at and download_url null; asking the
    download endpoint (100 requests a minute) would only hear 410."""
    api = FakeApi()
    expired = FileRef(kind=AssetKind.CONVERSATION_FILE, file_id="file-gone", name="x", container_id="conv-1",
                      owner_user_id="user-AAAA")
    result = fetch(api, expired, tmp_path)
    assert result.status == "expired"
    assert api.requests == []


def test_listed_download_url_is_used_without_key_or_quota(tmp_path: Path) -> None:
    api = FakeApi()
    result = fetch(api, ref("file-c1", url="https://files.example/file-c1"), tmp_path)
    assert result.downloaded
    assert result.path is not None
    assert result.path.read_bytes() == b"chat 1"
    assert result.size_bytes == 6
    assert [r.url.host for r in api.requests] == ["files.example"]
    assert "authorization" not in api.requests[0].headers


def test_endpoint_redirect_is_followed_without_bearer(tmp_path: Path) -> None:
    api = FakeApi()
    for kind, file_id, path_part in [
        (AssetKind.GPT_FILE, "file-1", "/gpt_files/file-1"),
        (AssetKind.PROJECT_FILE, "file-p1", "/project_files/file-p1"),
        (AssetKind.CONVERSATION_FILE, "file-c2", "/users/user-AAAA/files/file-c2"),
    ]:
        api.requests.clear()
        result = fetch(api, ref(file_id, kind), tmp_path)
        assert result.downloaded, result
        api_request, signed = api.requests
        assert api_request.url.path.endswith(path_part)
        assert api_request.headers["authorization"] == f"Bearer {COMPLIANCE_KEY}"
        assert signed.url.host == "files.example"
        assert "authorization" not in signed.headers


def test_stale_listed_url_falls_back_to_endpoint(tmp_path: Path) -> None:
    api = FakeApi()

    def expired_signature(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/stale":
            return httpx.Response(403, text="signature expired")
        return None

    api.fault = expired_signature
    result = fetch(api, ref("file-c3", url="https://files.example/stale"), tmp_path)
    assert result.downloaded
    assert result.path is not None
    assert result.path.read_bytes() == b"chat 3"


def test_expired_file_is_reported_not_raised(tmp_path: Path) -> None:
    result = fetch(FakeApi(), ref("file-gone"), tmp_path)
    assert result.status == "expired"
    assert result.path is None
    assert list(tmp_path.iterdir()) == []


def test_size_cap_leaves_no_partial_file(tmp_path: Path) -> None:
    api = FakeApi()
    api.org["files"]["file-big"] = b"x" * 5000
    result = fetch(api, ref("file-big"), tmp_path, max_bytes=1000)
    assert result.status == "too_large"
    assert list(tmp_path.iterdir()) == []


def test_transient_signed_url_error_is_retried(tmp_path: Path) -> None:
    api = FakeApi()
    calls = 0

    def flaky(request: httpx.Request) -> httpx.Response | None:
        nonlocal calls
        if request.url.host == "files.example":
            calls += 1
            if calls == 1:
                return httpx.Response(503)
        return None

    api.fault = flaky
    result = fetch(api, ref("file-c4"), tmp_path)
    assert result.downloaded
    assert calls == 2


def test_signed_url_query_never_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    result = fetch(FakeApi(), ref("file-c5", url="https://files.example/file-c5?sig=SIGNATURESECRET"), tmp_path)
    assert result.downloaded
    assert any("files.example" in r.getMessage() for r in caplog.records)
    assert not any("SIGNATURESECRET" in r.getMessage() for r in caplog.records)
