"""The Celery tasks. `celery -A openai_casb.distributed.tasks:app worker` (or `openai-casb worker`) runs them.

Each task is a thin shell over work.py / finalize.py. A task that fails with an exception is
retried twice; after that its scan is marked failed. A killed worker is not a failure: its
message is re-queued and the task runs again. So is a worker's cold shutdown (Ctrl-C twice), whose
interruption reaches a task of the solo pool as an ordinary exception (see `_guarded`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from celery.exceptions import Reject  # type: ignore[import-untyped]
from celery.worker import state as worker_state  # type: ignore[import-untyped]
from redis import Redis

from openai_casb.distributed import liveness, schedule
from openai_casb.distributed.celery_app import (
    TASK_CRAWL,
    TASK_DLP,
    TASK_FINALIZE,
    TASK_TICK,
    CeleryDispatch,
    make_celery,
)
from openai_casb.distributed.finalize import fail_job, run_finalize
from openai_casb.distributed.locks import ScanAlreadyRunningError
from openai_casb.distributed.settings import DistributedConfigError, load_distributed_settings, register_configured
from openai_casb.distributed.work import Runtime, run_crawl_part, run_dlp_batch, trigger_scan
from openai_casb.policy import load_policy
from openai_casb.store import Store
from openai_casb.store.repository import stale_after_from_env

log = logging.getLogger(__name__)
MAX_RETRIES = 2

config = load_distributed_settings()
app = make_celery(config)
_runtime: Runtime | None = None
_runtime_lock = threading.Lock()  # the tasks and the liveness beat's thread share it


def runtime() -> Runtime:
    """One store connection pool, Redis client and policy per worker process, made on first use."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = Runtime(
                store=Store.open(config.db_url),
                redis=Redis.from_url(config.redis_url),
                config=config,
                policy=load_policy(),
                dispatch=CeleryDispatch(app),
            )
        return _runtime


# While this worker runs, its unfinished scans stay alive even when their tasks wait in the queue.
liveness_beat = liveness.install(runtime, liveness.beat_interval(config.lock_ttl_seconds, stale_after_from_env()))


def cold_shutdown_started() -> bool:
    """True once the worker began a cold shutdown (Ctrl-C twice, SIGQUIT).

    Celery then cancels the running tasks from its signal handler. With the solo pool the handler
    runs inside the task itself, and the pool cannot cancel it: `TaskPool.terminate_job` raises
    NotImplementedError ("does not implement kill_job") right there, in the task's frame. The
    handler sets `should_terminate` whatever it raised (celery/apps/worker.py, _shutdown_handler),
    so this flag, not the exception's type, tells an interruption from a failure.
    """
    flag = worker_state.should_terminate
    return flag is not None and flag is not False


def _guarded(task: Any, scan_id: int, body: Callable[[Runtime], None]) -> None:
    rt = runtime()
    try:
        body(rt)
    except DistributedConfigError as exc:  # no credentials here: retrying cannot help
        fail_job(rt, scan_id, f"scan aborted: {exc}")
    except Exception as exc:
        if cold_shutdown_started():
            # Not the task's fault: hand its message back to the broker (with no retry counted), and
            # another worker, or this one restarted, runs the task again. Parts are idempotent.
            log.warning("task %s of scan %s interrupted by the worker's shutdown (%s); re-queued",
                        task.name, scan_id, type(exc).__name__)
            raise Reject(requeue=True) from None
        if task.request.retries < MAX_RETRIES:
            log.warning("task %s of scan %s failed (%s); retrying", task.name, scan_id, type(exc).__name__)
            raise task.retry(countdown=5) from None
        fail_job(rt, scan_id, f"scan aborted: {type(exc).__name__}: {exc}")


def crawl_part(task: Any, scan_id: int, group: str) -> None:
    _guarded(task, scan_id, lambda rt: run_crawl_part(rt, scan_id, group))


def dlp_batch(task: Any, scan_id: int, batch: str) -> None:
    _guarded(task, scan_id, lambda rt: run_dlp_batch(rt, scan_id, batch))


def finalize(task: Any, scan_id: int) -> None:
    _guarded(task, scan_id, lambda rt: run_finalize(rt, scan_id, str(task.request.id)))


def schedule_tick(task: Any) -> None:
    """Start a scan of every integration whose time has come (the scheduler sends this every minute)."""
    rt = runtime()
    now = datetime.now(UTC)
    for integration in register_configured(rt.store, rt.config):
        schedule.ensure_schedule(rt.store.engine, integration.id, rt.config.default_interval_hours, now)
    for integration_id in schedule.due(rt.store.engine, now):
        try:
            scan_id = trigger_scan(rt, integration_id, now=now)
        except ScanAlreadyRunningError:
            log.info("integration %s: scan still running, next tick will retry", integration_id)
            continue
        log.info("integration %s: scheduled scan %s started", integration_id, scan_id)


# Registered without decorators: Celery's are untyped, and these stay plain functions for mypy.
_options = {"bind": True, "acks_late": True, "reject_on_worker_lost": True, "max_retries": MAX_RETRIES}
crawl_part_task = app.task(name=TASK_CRAWL, **_options)(crawl_part)
dlp_batch_task = app.task(name=TASK_DLP, **_options)(dlp_batch)
finalize_task = app.task(name=TASK_FINALIZE, **_options)(finalize)
schedule_tick_task = app.task(name=TASK_TICK, bind=True)(schedule_tick)
