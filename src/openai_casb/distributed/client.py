"""Starting distributed scans from outside a worker: the CLI's `openai-casb trigger` and the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from redis import Redis

from openai_casb.distributed.celery_app import CeleryDispatch, make_celery
from openai_casb.distributed.settings import DistributedSettings, load_distributed_settings
from openai_casb.distributed.work import Runtime, trigger_scan
from openai_casb.policy import Policy
from openai_casb.store import Integration, Store


def trigger(store: Store, integration_id: int, *, full: bool = False, now: datetime | None = None,
            config: DistributedSettings | None = None) -> int:
    """Queue a scan of one integration on the workers; returns its scan id at once.

    Raises ScanAlreadyRunningError if one is running, NotFoundError for an unknown integration.
    """
    config = config or load_distributed_settings()
    with Redis.from_url(config.redis_url) as redis:
        # The policy is the workers' (OPENAI_CASB_POLICY on their side); triggering needs none.
        rt = Runtime(store=store, redis=redis, config=config, policy=Policy(),
                     dispatch=CeleryDispatch(make_celery(config)))
        return trigger_scan(rt, integration_id, full=full, now=now)


def celery_launcher(store: Store, config: DistributedSettings | None = None) -> Any:
    """A `web.scan_launcher.ScanLauncher` that queues the scan on the workers instead of a thread.

    The credentials given are not sent anywhere: workers read the integration's stored credentials.
    """

    def launch(integration: Integration, credentials: dict[str, Any], progress: Any) -> int:
        scan_id = trigger(store, integration.id, config=config)
        progress.update(scan_id, "queued on the workers")
        return scan_id

    return launch
