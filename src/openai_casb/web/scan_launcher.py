"""Starting a scan from the web: a small adapter over `openai_casb.scanning`, run in a background thread.

The app only depends on the `ScanLauncher` protocol, so tests (and other deployments, e.g. a worker
queue) can hand in their own. Progress is kept in memory per scan for the live progress view;
the durable state of a scan is its row in the store.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, replace
from typing import Any, Protocol

from pydantic import ValidationError

from openai_casb.config import Settings
from openai_casb.inventory.model import FileScan, Source, SourceReport
from openai_casb.policy import Policy
from openai_casb.scanning import ScanProgress, ScanRequest, run_scan
from openai_casb.store import Integration, Store

log = logging.getLogger(__name__)


class ScanUnavailableError(Exception):
    """Scans cannot be started from this server. The message says why."""


@dataclass(frozen=True, slots=True)
class Progress:
    stage: str
    done: int = 0
    total: int | None = None
    message: str | None = None


class ProgressBoard:
    """Thread-safe latest progress per scan id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_scan: dict[int, Progress] = {}

    def update(self, scan_id: int, stage: str, done: int = 0, total: int | None = None,
               message: str | None = None) -> None:
        with self._lock:
            self._by_scan[scan_id] = Progress(stage, done, total, message)

    def get(self, scan_id: int) -> Progress | None:
        with self._lock:
            found = self._by_scan.get(scan_id)
            return replace(found) if found else None


class ScanLauncher(Protocol):
    def __call__(self, integration: Integration, credentials: dict[str, Any], progress: ProgressBoard) -> int:
        """Start a scan of `integration` in the background and return its scan id at once."""
        ...


class _BoardProgress(ScanProgress):
    """`openai_casb.scanning.ScanProgress` feeding the progress board of one scan."""

    def __init__(self, board: ProgressBoard) -> None:
        self.board = board
        self.scan_id: int | None = None
        self.objects = 0
        self.sources_done = 0
        self.files = 0

    def _show(self, stage: str) -> None:
        if self.scan_id is not None:
            self.board.update(self.scan_id, stage, self.sources_done, None,
                              f"{self.objects} objects read, {self.files} files checked")

    def update(self, source: Source, pages: int, objects: int) -> None:
        self.objects = max(self.objects, objects)
        self._show(f"reading {source.value}")

    def finished(self, report: SourceReport) -> None:
        self.sources_done += 1
        self._show(f"{report.source.value} {report.state}")

    def file_done(self, scan: FileScan) -> None:
        self.files += 1
        self._show("scanning files")


def settings_from_credentials(integration: Integration, credentials: dict[str, Any]) -> Settings:
    """Connector settings from stored credentials; pydantic's error if they are unusable."""
    values = {
        "admin_key": credentials.get("admin_key"),
        "compliance_key": credentials.get("compliance_key"),
        "org_id": integration.organization_id,
        "workspace_id": integration.workspace_id,
        "admin_base_url": credentials.get("admin_base_url"),
        "compliance_base_url": credentials.get("compliance_base_url"),
    }
    return Settings.model_validate({key: value for key, value in values.items() if value is not None})


def scanning_launcher(store: Store, policy: Policy, start_timeout: float = 30.0) -> ScanLauncher:
    """The production launcher: `openai_casb.scanning.run_scan` on its own event loop in a daemon thread."""

    def launch(integration: Integration, credentials: dict[str, Any], progress: ProgressBoard) -> int:
        try:
            settings = settings_from_credentials(integration, credentials)
        except ValidationError:
            raise ScanUnavailableError(
                f"the stored credentials of integration {integration.id} are incomplete; re-enter them"
            ) from None
        feed = _BoardProgress(progress)
        started = threading.Event()
        failure: list[str] = []

        def on_begin(scan_id: int) -> None:
            feed.scan_id = scan_id
            progress.update(scan_id, "starting")
            started.set()

        def run() -> None:
            request = ScanRequest(settings=settings, policy=policy, display_name=integration.display_name)
            try:
                asyncio.run(run_scan(store, request, progress=feed, on_begin=on_begin))
            except Exception as exc:  # recorded on the scan by run_scan; logged here without secrets
                failure.append(type(exc).__name__)
                log.warning("scan of integration %s failed: %s", integration.id, type(exc).__name__)
            finally:
                if feed.scan_id is not None:
                    progress.update(feed.scan_id, "finished", feed.sources_done)
                started.set()

        threading.Thread(target=run, name=f"scan-{integration.id}", daemon=True).start()
        if not started.wait(start_timeout) or feed.scan_id is None:
            reason = f" ({failure[0]})" if failure else ""
            raise ScanUnavailableError(f"the scan of integration {integration.id} did not start{reason}")
        return feed.scan_id

    return launch
