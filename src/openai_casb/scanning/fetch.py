"""Adapts the connectors' file downloader to the DLP pipeline's `fetch`."""

from __future__ import annotations

from pathlib import Path

from openai_casb.config import Settings
from openai_casb.connectors.downloads import FileDownloader, make_downloader
from openai_casb.connectors.ratelimit import RollingWindowLimiter
from openai_casb.connectors.session import Clients, open_clients
from openai_casb.inventory.model import FileRef
from openai_casb.scanning.pipeline import Fetched

# Outcomes that a later scan cannot change: the file is gone or will never fit.
_FINAL = frozenset({"expired", "not_found", "too_large"})


class Downloader:
    """`async with Downloader(settings) as d:` then `await d.fetch(file, folder)`."""

    def __init__(self, settings: Settings, *, max_bytes: int, limiter: RollingWindowLimiter | None = None) -> None:
        self._settings = settings
        self._limiter = limiter
        self._max_bytes = max_bytes
        self._clients: Clients | None = None
        self._downloader: FileDownloader | None = None

    async def __aenter__(self) -> Downloader:
        self._clients = open_clients(self._settings, limiter=self._limiter)
        self._downloader = make_downloader(self._settings, self._clients)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._clients is not None:
            await self._clients.aclose()

    @property
    def requests(self) -> int:
        return self._clients.requests if self._clients is not None else 0

    async def fetch(self, file: FileRef, folder: Path) -> Fetched:
        assert self._downloader is not None, "use Downloader as an async context manager"
        result = await self._downloader.download(file, folder, self._max_bytes)
        if result.path is not None:
            return result.path, None, None
        return None, result.reason or result.status, result.status in _FINAL
