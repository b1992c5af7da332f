"""Starting distributed scans from outside a worker: the CLI's `openai-casb trigger` and the REST API."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from kombu.exceptions import OperationalError
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session

from openai_casb.distributed import jobs
from openai_casb.distributed.celery_app import CeleryDispatch, make_celery
from openai_casb.distributed.locks import ScanAlreadyRunningError
from openai_casb.distributed.models import ScanPartRow
from openai_casb.distributed.settings import DistributedSettings, load_distributed_settings
from openai_casb.distributed.work import Runtime, trigger_scan
from openai_casb.policy import Policy
from openai_casb.store import Integration, Store
from openai_casb.web.scan_launcher import Progress, ProgressBoard, ScanRunningError, ScanUnavailableError

log = logging.getLogger(__name__)


class QueueUnreachableError(RuntimeError):
    """The broker or Redis did not answer a trigger. The message names neither URL (they may hold a password)."""


@contextmanager
def _queueing(integration_id: int) -> Iterator[None]:
    """Turns the errors of an unreachable broker (kombu's OperationalError) or Redis into QueueUnreachableError.
    A scan already recorded is failed by trigger_scan itself (its tasks could not be queued)."""
    try:
        yield
    except (RedisError, OperationalError, OSError) as exc:
        log.warning("queueing a scan of integration %s failed: %s", integration_id, type(exc).__name__)
        raise QueueUnreachableError(
            f"the scan of integration {integration_id} could not be queued (broker or Redis unreachable: "
            f"{type(exc).__name__}); check OPENAI_CASB_BROKER_URL and OPENAI_CASB_REDIS_URL"
        ) from None


def trigger(store: Store, integration_id: int, *, full: bool = False, now: datetime | None = None,
            config: DistributedSettings | None = None) -> int:
    """Queue a scan of one integration on the workers; returns its scan id at once.

    Raises ScanAlreadyRunningError if one is running, NotFoundError for an unknown integration,
    QueueUnreachableError when the broker or Redis does not answer.
    """
    config = config or load_distributed_settings()
    with _queueing(integration_id), Redis.from_url(config.redis_url) as redis:
        # The policy is the workers' (OPENAI_CASB_POLICY on their side); triggering needs none.
        rt = Runtime(store=store, redis=redis, config=config, policy=Policy(),
                     dispatch=CeleryDispatch(make_celery(config)))
        return trigger_scan(rt, integration_id, full=full, now=now)


class CeleryLauncher:
    """The web's launcher in distributed mode (a `web.scan_launcher.QueuedLauncher`): a trigger queues the
    scan on the workers, and its progress is what the workers recorded in the store (the job's stage
    and the parts stored so far), so every server process, and every worker, sees the same.

    The credentials given are not sent anywhere: workers find the integration's credentials themselves
    (their config files, else those stored through the web). The integration's lock is the workers'
    Redis lock: a trigger while a scan of it runs, started from anywhere, raises ScanRunningError.
    """

    def __init__(self, store: Store, config: DistributedSettings | None = None) -> None:
        self.store = store
        self.config = config or load_distributed_settings()
        self._guard = threading.Lock()
        self._runtime: Runtime | None = None

    def _connected(self) -> Runtime:
        """One Redis pool and one Celery app for the server's life (made on the first trigger), shared by
        the request threads; a Redis that does not answer fails the trigger in seconds, not minutes."""
        with self._guard:
            if self._runtime is None:
                redis = Redis.from_url(self.config.redis_url, socket_connect_timeout=5, socket_timeout=15)
                # The policy is the workers' (OPENAI_CASB_POLICY on their side); triggering needs none.
                self._runtime = Runtime(store=self.store, redis=redis, config=self.config, policy=Policy(),
                                        dispatch=CeleryDispatch(make_celery(self.config)))
            return self._runtime

    def __call__(self, integration: Integration, credentials: dict[str, Any], progress: ProgressBoard) -> int:
        try:
            with _queueing(integration.id):
                return trigger_scan(self._connected(), integration.id)
        except ScanAlreadyRunningError:
            raise ScanRunningError(integration.id) from None
        except QueueUnreachableError as exc:
            raise ScanUnavailableError(str(exc)) from None

    def progress_of(self, scan_id: int) -> Progress | None:
        return job_progress(self.store, scan_id)


def job_progress(store: Store, scan_id: int) -> Progress | None:
    """A distributed scan's progress from its job row and the names of its stored parts (never their payloads).

    Crawl parts come first (one per source group). A crawl stores its files' DLP batches as it lists
    them, so once all crawl parts are in, the `files:` parts are the batches to scan (with, after a
    killed crawl, its orphan batches, scanned too) and the `dlp:` parts those scanned.
    """
    job = jobs.get_job(store.engine, scan_id)
    if job is None or job.stage == jobs.DONE:
        return None
    if job.stage == jobs.FINALIZING:
        return Progress("finalizing", message="evaluating checks and storing the results")
    with Session(store.engine) as session:
        names = list(session.scalars(select(ScanPartRow.part_id).where(ScanPartRow.scan_id == scan_id)))
    crawled = sum(name.startswith("crawl:") for name in names)
    groups = len(job.crawl_parts)
    if crawled < groups:
        return Progress("reading sources", crawled, groups, f"{crawled} of {groups} source groups read")
    batches = sum(name.startswith("files:") for name in names)
    scanned = sum(name.startswith("dlp:") for name in names)
    return Progress("scanning files", scanned, batches, f"{scanned} of {batches} file batches scanned")


def celery_launcher(store: Store, config: DistributedSettings | None = None) -> CeleryLauncher:
    """The web's launcher in distributed mode; see CeleryLauncher."""
    return CeleryLauncher(store, config)
