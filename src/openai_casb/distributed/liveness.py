"""A distributed scan stays alive while a worker is: every worker process beats for the unfinished scans.

A scan's tasks renew its heartbeat and lock only while they run (work.task_heartbeat). Tasks that
wait in the broker's queue longer than the stale time would otherwise let `openai-casb scan` or a
trigger take the scan for dead. So each worker renews, every beat, the store heartbeat of every
running scan whose job is not done, and the Redis lock of each with the token of its job row. With no
worker alive nothing renews them, and the scan is taken for dead after the stale time, as before.
See docs/distributed.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

from openai_casb.distributed import jobs
from openai_casb.distributed.finalize import close_ended_jobs
from openai_casb.distributed.locks import renew_scan_lock
from openai_casb.distributed.work import Runtime
from openai_casb.repeating import repeating

log = logging.getLogger(__name__)

BEAT_SECONDS = 30.0
MIN_BEAT_SECONDS = 0.5


def beat_interval(lock_ttl_seconds: float, stale_after: timedelta) -> float:
    """Every 30 s, or a third of the lock's TTL or of the stale time when shorter: a beat may fail
    and the next still comes in time."""
    thirds = min(lock_ttl_seconds, stale_after.total_seconds()) / 3
    return max(MIN_BEAT_SECONDS, min(BEAT_SECONDS, thirds))


def beat_once(runtime: Callable[[], Runtime]) -> int:
    """One beat: one UPDATE for the heartbeats, then one lock renewal per scan it touched, then the
    clean-up of jobs whose scan ended without a finalizer (finalize.close_ended_jobs).

    Returns how many scans it kept alive. Never raises: a failing beat (database or Redis away) logs
    a warning, the worker goes on, and the next beat retries. Locks are renewed only for scans whose
    heartbeat was, and only if still held with the job's token (an expired lock is not taken again:
    the store's heartbeat is what a new scan checks).
    """
    try:
        rt = runtime()
        now = rt.store.clock()
        idle_limit = timedelta(seconds=rt.config.scan_max_idle_seconds)
        beaten = jobs.beat_unfinished_scans(rt.store.engine, now, progress_since=now - idle_limit)
    except Exception as exc:
        log.warning("worker beat: scan heartbeats not renewed (%s)", type(exc).__name__)
        return 0
    for scan in beaten:
        try:
            renew_scan_lock(rt.redis, scan.integration_id, scan.lock_token, rt.config.lock_ttl_seconds)
        except Exception as exc:
            log.warning("worker beat: the lock of integration %s not renewed (%s)", scan.integration_id,
                        type(exc).__name__)
    try:
        close_ended_jobs(rt)  # scans taken for dead: their parts dropped, their jobs done
    except Exception as exc:
        log.warning("worker beat: ended scans not cleaned up (%s)", type(exc).__name__)
    return len(beaten)


class WorkerBeat:
    """The beat thread of one worker process: started when the worker is ready, stopped at shutdown."""

    def __init__(self, runtime: Callable[[], Runtime], interval: float) -> None:
        self._runtime, self._interval = runtime, interval
        self._stack: ExitStack | None = None
        self._guard = threading.Lock()

    def start(self, *_: Any, **__: Any) -> None:
        with self._guard:
            if self._stack is not None:  # a consumer that reconnects is ready again: one thread only
                return
            # The first beat comes after one interval, in the thread: a database slow to answer never
            # holds up the worker's start.
            self._stack = ExitStack()
            self._stack.enter_context(repeating(self._interval, self._beat, name="scan-liveness"))

    def _beat(self) -> None:
        beat_once(self._runtime)

    def stop(self, *_: Any, **__: Any) -> None:
        with self._guard:
            if self._stack is not None:
                self._stack.close()
                self._stack = None


def install(runtime: Callable[[], Runtime], interval: float) -> WorkerBeat:
    """Run the beat in every worker process of this app: `worker_ready` and `worker_shutdown` are sent
    once per worker, in its main process (the one that runs tasks with the solo and threads pools)."""
    from celery import signals  # type: ignore[import-untyped]

    beat = WorkerBeat(runtime, interval)
    signals.worker_ready.connect(beat.start, weak=False)
    signals.worker_shutdown.connect(beat.stop, weak=False)
    return beat
