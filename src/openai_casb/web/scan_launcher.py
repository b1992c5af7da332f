"""Starting a scan from the web: in a background thread here, or queued on Celery workers.

The app only depends on the `ScanLauncher` protocol, so tests can hand in their own. `configured_launcher`
picks the production one: the Celery queue when `OPENAI_CASB_BROKER_URL` is set (distributed mode,
docs/distributed.md), else `scanning_launcher`, which runs `openai_casb.scanning.run_scan` in a thread
and keeps each scan's progress in memory. A queued scan's progress is read from the store, where the
workers record it (`QueuedLauncher.progress_of`). Either way one scan of an integration runs at a
time, whoever started it (this server, `openai-casb scan`, the workers: the store refuses a second
`begin_scan` while the first's heartbeat is fresh): a second trigger raises `ScanRunningError` (409).
The durable state of a scan is its row in the store.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

from pydantic import ValidationError

from openai_casb.config import Settings
from openai_casb.inventory.model import FileScan, Source, SourceReport
from openai_casb.policy import Policy
from openai_casb.scanning import ScanProgress, ScanRequest, run_scan
from openai_casb.store import Integration, Store
from openai_casb.store import ScanRunningError as StoreScanRunningError

log = logging.getLogger(__name__)


class ScanUnavailableError(Exception):
    """Scans cannot be started from this server. The message says why."""


class ScanRunningError(Exception):
    """A scan of this integration is already running (in this server, or on the workers)."""

    def __init__(self, integration_id: int) -> None:
        super().__init__(f"a scan of integration {integration_id} is already running; wait for it to finish")
        self.integration_id = integration_id


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
        """Start a scan of `integration` in the background and return its scan id at once.

        Raises ScanRunningError while a scan of it runs, ScanUnavailableError when it cannot start.
        """
        ...


@runtime_checkable
class QueuedLauncher(Protocol):
    """A launcher handing scans to workers: they find the integration's credentials themselves (so none
    need be stored through the web) and record the scan's progress in the store, not in this process."""

    def __call__(self, integration: Integration, credentials: dict[str, Any], progress: ProgressBoard) -> int: ...

    def progress_of(self, scan_id: int) -> Progress | None:
        """The progress of a running scan, from the store; None when the store knows none."""
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
    """The in-process launcher: `openai_casb.scanning.run_scan` on its own event loop in a daemon thread.

    One scan per integration at a time in this server: the integration is marked running until its
    thread ends (whether the scan completed, failed, or never started).
    """
    guard = threading.Lock()
    running: set[int] = set()

    def launch(integration: Integration, credentials: dict[str, Any], progress: ProgressBoard) -> int:
        try:
            settings = settings_from_credentials(integration, credentials)
        except ValidationError:
            raise ScanUnavailableError(
                f"the stored credentials of integration {integration.id} are incomplete; re-enter them"
            ) from None
        with guard:
            if integration.id in running:
                raise ScanRunningError(integration.id)
            running.add(integration.id)
        feed = _BoardProgress(progress)
        started = threading.Event()
        failure: list[BaseException] = []

        def on_begin(scan_id: int) -> None:
            feed.scan_id = scan_id
            progress.update(scan_id, "starting")
            started.set()

        def run() -> None:
            request = ScanRequest(settings=settings, policy=policy, display_name=integration.display_name)
            try:
                asyncio.run(run_scan(store, request, progress=feed, on_begin=on_begin))
            except StoreScanRunningError as exc:  # another process (a CLI scan, a worker) scans it now
                failure.append(exc)
            except Exception as exc:  # recorded on the scan by run_scan; logged here without secrets
                failure.append(exc)
                log.warning("scan of integration %s failed: %s", integration.id, type(exc).__name__)
            finally:
                if feed.scan_id is not None:
                    progress.update(feed.scan_id, "finished", feed.sources_done)
                with guard:
                    running.discard(integration.id)
                started.set()

        try:
            threading.Thread(target=run, name=f"scan-{integration.id}", daemon=True).start()
        except BaseException:
            with guard:
                running.discard(integration.id)
            raise
        if not started.wait(start_timeout) or feed.scan_id is None:
            if failure and isinstance(failure[0], StoreScanRunningError):
                raise ScanRunningError(integration.id)
            reason = f" ({type(failure[0]).__name__})" if failure else ""
            raise ScanUnavailableError(f"the scan of integration {integration.id} did not start{reason}")
        return feed.scan_id

    return launch


def configured_launcher(store: Store, policy: Policy, env: Mapping[str, str] | None = None) -> tuple[ScanLauncher, str]:
    """The launcher `openai-casb serve` uses, and a line saying which.

    Distributed mode is on when `OPENAI_CASB_BROKER_URL` (or `OPENAI_CASB_BROKER_URL_FILE`) is set, as
    for `openai-casb worker`: scans are then queued on the workers (the same broker, Redis and database
    settings as theirs). Else they run in this process. Raises ScanUnavailableError when the broker is set but the
    `distributed` extra is missing or its settings are invalid.
    """
    from openai_casb.distributed.settings import BROKER_ENV, DistributedConfigError, load_distributed_settings
    from openai_casb.env_files import EnvFileError, env_value

    environment = os.environ if env is None else env
    try:
        broker = env_value(BROKER_ENV, environment)
    except EnvFileError as exc:
        raise ScanUnavailableError(str(exc)) from None
    if not (broker or "").strip():
        return scanning_launcher(store, policy), "scans run in this process"
    from openai_casb.distributed.celery_app import DistributedUnavailableError, require_celery

    try:
        require_celery()
        config = load_distributed_settings(environment)
    except (DistributedUnavailableError, DistributedConfigError) as exc:
        raise ScanUnavailableError(f"{BROKER_ENV} is set, but {exc}") from None
    from openai_casb.distributed.client import celery_launcher

    return celery_launcher(store, config), f"scans are queued on the Celery workers ({BROKER_ENV} is set)"
