"""The Celery application: broker, reliability settings and the scheduler's tick.

Importing this module needs the `distributed` extra; `require_celery` says so clearly when missing.
"""

from __future__ import annotations

import importlib
from typing import Any

from openai_casb.distributed.settings import DistributedSettings

TASK_CRAWL = "openai_casb.crawl_part"
TASK_DLP = "openai_casb.dlp_batch"
TASK_FINALIZE = "openai_casb.finalize"
TASK_TICK = "openai_casb.schedule_tick"
QUEUE = "openai-casb"


class DistributedUnavailableError(RuntimeError):
    pass


def require_celery() -> None:
    """Raise a clear error when the `distributed` extra (celery, redis) is not installed."""
    missing = []
    for name in ("celery", "redis"):
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise DistributedUnavailableError(
            f"{' and '.join(missing)} not installed: distributed mode needs the extra, "
            "pip install 'openai-casb[distributed]'"
        )


def make_celery(config: DistributedSettings) -> Any:
    """A Celery app on `config.broker_url`. Returns `celery.Celery` (Celery ships no type hints)."""
    require_celery()
    from celery import Celery  # type: ignore[import-untyped]

    app = Celery("openai_casb", broker=config.broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # results go to the database, keyed by (scan, part)
        # A task is acknowledged only when done, and re-queued if its worker process dies, so a
        # killed worker loses nothing; one message at a time per process so none waits behind a long one.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Redis hands an unacknowledged message to another worker after this long (a whole host lost).
        # Kombu sweeps for such messages every interval x throttle seconds (100 s by default): sweep
        # every third of the timeout instead, so a lost task is redone within about 1.3 timeouts.
        broker_transport_options={
            "visibility_timeout": config.visibility_timeout_seconds,
            "unacked_restore_interval": max(1, min(60, round(config.visibility_timeout_seconds / 3))),
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
        task_default_queue=QUEUE,
        worker_hijack_root_logger=False,
        beat_schedule={"openai-casb-tick": {"task": TASK_TICK, "schedule": config.tick_seconds}},
    )
    return app


class CeleryDispatch:
    """`work.Dispatch` over a Celery app: tasks are sent by name, carrying ids only (never credentials)."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def crawl_part(self, scan_id: int, group: str) -> None:
        self._app.send_task(TASK_CRAWL, args=[scan_id, group])

    def dlp_batch(self, scan_id: int, batch: str) -> None:
        self._app.send_task(TASK_DLP, args=[scan_id, batch])

    def finalize(self, scan_id: int) -> None:
        self._app.send_task(TASK_FINALIZE, args=[scan_id])
