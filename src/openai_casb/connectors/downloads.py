"""Downloading workspace files for DLP, into bounded temporary files.

Order of preference: the `download_url` of the freshly listed object (valid one hour and not
counted against the 100/min quota), else the file endpoint, whose 307 is followed to the signed URL
WITHOUT the Bearer key. 410 (an expired chat upload) is a normal outcome, not an error of the scan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from openai_casb.config import Settings
from openai_casb.connectors.errors import ApiError
from openai_casb.connectors.http import ApiClient, Sleep
from openai_casb.connectors.retry import Retrier, RetriesExhausted, RetryPolicy, Transient, is_retryable_status
from openai_casb.connectors.session import Clients
from openai_casb.inventory.model import LISTED_EXPIRED, AssetKind, FileRef

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
USER_FILE = "/compliance/workspaces/{workspace_id}/users/{user_id}/files/{file_id}"
GPT_FILE = "/compliance/workspaces/{workspace_id}/gpt_files/{file_id}"
PROJECT_FILE = "/compliance/workspaces/{workspace_id}/project_files/{file_id}"

DownloadStatus = Literal["downloaded", "expired", "not_found", "too_large", "failed"]


@dataclass(frozen=True, slots=True)
class DownloadResult:
    """`path` is set only when downloaded; the caller deletes it after scanning."""

    file: FileRef
    status: DownloadStatus
    path: Path | None = None
    size_bytes: int | None = None
    reason: str | None = None

    @property
    def downloaded(self) -> bool:
        return self.status == "downloaded"


class _TooLarge(Exception):
    pass


class _SignedUrlFailed(Exception):
    def __init__(self, status: int | None, reason: str, response: httpx.Response | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.response = response  # for its Retry-After


class FileDownloader:
    """Downloads files of one workspace. `download` never raises for an API answer; it says why not."""

    def __init__(
        self,
        compliance: ApiClient,
        workspace_id: str,
        unauthenticated: httpx.AsyncClient,
        policy: RetryPolicy,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._api = compliance
        self._workspace_id = workspace_id
        self._bare = unauthenticated
        self._retrier = Retrier(policy, sleep, rng or random.Random())
        self._max_bytes = max_bytes

    def _endpoint(self, file: FileRef) -> tuple[str, dict[str, str], dict[str, str]]:
        ids = {"workspace_id": self._workspace_id, "file_id": file.file_id}
        if file.kind is AssetKind.GPT_FILE:
            return GPT_FILE, ids, {}
        if file.kind is AssetKind.PROJECT_FILE:
            return PROJECT_FILE, ids, {}
        # conversation_id is needed for audio and video, harmless otherwise.
        return USER_FILE, {**ids, "user_id": file.owner_user_id or ""}, {"conversation_id": file.container_id}

    async def download(self, file: FileRef, dest_dir: Path, max_bytes: int | None = None) -> DownloadResult:
        cap = max_bytes if max_bytes is not None else self._max_bytes
        if file.download_url:
            try:
                return await self._fetch_signed(file, file.download_url, dest_dir, cap)
            except _TooLarge:
                return DownloadResult(file, "too_large", reason=f"larger than {cap} bytes")
            except _SignedUrlFailed as exc:
                # The listed URL lasts an hour; past that, ask the endpoint for a fresh one.
                log.debug("listed download URL of %s failed (%s); using the file endpoint", file.file_id, exc)
        if file.listed_expired:
            # Asking the download endpoint, 100 requests a minute, would only hear 410.
            return DownloadResult(file, "expired", reason=LISTED_EXPIRED)
        if file.kind is AssetKind.CONVERSATION_FILE and not file.owner_user_id:
            return DownloadResult(file, "failed", reason="no uploader user id to address the file")
        template, path_params, params = self._endpoint(file)
        try:
            response = await self._api.request(
                template, path_params, params, expect_json=False, accept_statuses=frozenset({404, 410})
            )
        except ApiError as exc:
            return DownloadResult(file, "failed", reason=str(exc))
        if response.status_code == 410:
            return DownloadResult(file, "expired", reason="file expired (HTTP 410)")
        if response.status_code == 404:
            return DownloadResult(file, "not_found", reason="file not found (HTTP 404)")
        location = response.headers.get("location") if 300 <= response.status_code < 400 else None
        try:
            if location:
                return await self._fetch_signed(file, location, dest_dir, cap)
            return self._write_body(file, response.content, dest_dir, cap)
        except _TooLarge:
            return DownloadResult(file, "too_large", reason=f"larger than {cap} bytes")
        except _SignedUrlFailed as exc:
            status: DownloadStatus = "expired" if exc.status == 410 else "failed"
            return DownloadResult(file, status, reason=f"signed URL: {exc}")

    def _write_body(self, file: FileRef, body: bytes, dest_dir: Path, cap: int) -> DownloadResult:
        if len(body) > cap:
            raise _TooLarge
        handle, name = tempfile.mkstemp(prefix="casb-", dir=dest_dir)
        with os.fdopen(handle, "wb") as out:
            out.write(body)
        return DownloadResult(file, "downloaded", path=Path(name), size_bytes=len(body))

    async def _fetch_signed(self, file: FileRef, url: str, dest_dir: Path, cap: int) -> DownloadResult:
        """GET a signed URL with no Authorization header, streaming into a capped temporary file."""

        async def attempt() -> DownloadResult:
            try:
                return await self._stream(file, url, dest_dir, cap)
            except _SignedUrlFailed as exc:
                if exc.status is not None and is_retryable_status(exc.status):
                    raise Transient(str(exc), exc.status, exc.response) from None
                raise

        try:
            return await self._retrier.run(attempt, f"signed URL of {file.file_id}")
        except RetriesExhausted as exc:
            raise _SignedUrlFailed(exc.status, str(exc)) from None

    async def _stream(self, file: FileRef, url: str, dest_dir: Path, cap: int) -> DownloadResult:
        async with self._bare.stream("GET", url) as response:
            if response.status_code != 200:
                raise _SignedUrlFailed(response.status_code, f"HTTP {response.status_code}", response)
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > cap:
                raise _TooLarge
            handle, name = tempfile.mkstemp(prefix="casb-", dir=dest_dir)
            path = Path(name)
            size = 0
            try:
                with os.fdopen(handle, "wb") as out:
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > cap:
                            raise _TooLarge
                        out.write(chunk)
            except BaseException:
                # Never leave a partial file behind (over the cap, connection dropped, cancelled).
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name)
                raise
        return DownloadResult(file, "downloaded", path=path, size_bytes=size)


def make_downloader(settings: Settings, clients: Clients, *, sleep: Sleep = asyncio.sleep) -> FileDownloader:
    """A downloader on open clients (`connectors.session.open_clients`); needs a configured workspace."""
    if clients.compliance is None or settings.workspace_id is None:
        raise ValueError("file downloads need a workspace: set CHATGPT_WORKSPACE_ID")
    return FileDownloader(
        clients.compliance,
        settings.workspace_id,
        clients.unauthenticated,
        clients.policy,
        max_bytes=settings.download_max_bytes,
        sleep=sleep,
    )
