"""One scan of an integration at a time, across all workers: a Redis lock with a TTL and a heartbeat.

The lock is taken when a scan is triggered and released when it is finalized. Every task of the
scan renews its TTL while it runs (any worker may run any task, so the token travels in the scan's
job row, never in a broker message), and every live worker renews it while the scan's job is
unfinished, its tasks queued or not (liveness.py). With no worker alive nobody renews it and the
lock expires after its TTL, so an integration is never locked for good.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from redis import Redis
from redis.exceptions import LockError
from redis.lock import Lock

from openai_casb.repeating import repeating

log = logging.getLogger(__name__)

KEY_PREFIX = "openai-casb:scan-lock"


class ScanAlreadyRunningError(Exception):
    """Another scan of this integration holds the lock."""


def _lock(redis: Redis, integration_id: int, ttl_seconds: float, token: str | None = None) -> Lock:
    lock = Lock(redis, f"{KEY_PREFIX}:{integration_id}", timeout=ttl_seconds, thread_local=False)
    if token is not None:
        lock.local.token = token.encode()
    return lock


def acquire_scan_lock(redis: Redis, integration_id: int, ttl_seconds: float) -> str:
    """Take the integration's lock; returns its token. Raises ScanAlreadyRunningError if held."""
    token = secrets.token_hex(16)
    if not _lock(redis, integration_id, ttl_seconds).acquire(blocking=False, token=token):
        raise ScanAlreadyRunningError(f"a scan of integration {integration_id} is already running")
    return token


def renew_scan_lock(redis: Redis, integration_id: int, token: str, ttl_seconds: float) -> bool:
    """Reset the lock's TTL; False if the lock is no longer ours (expired, or taken by another scan)."""
    try:
        _lock(redis, integration_id, ttl_seconds, token).reacquire()
    except LockError:
        return False
    return True


def release_scan_lock(redis: Redis, integration_id: int, token: str) -> None:
    """Release the lock if it is still ours (an expired lock someone else took is left alone)."""
    with suppress(LockError):
        _lock(redis, integration_id, 1.0, token).release()


def scan_lock_held(redis: Redis, integration_id: int) -> bool:
    return bool(redis.exists(f"{KEY_PREFIX}:{integration_id}"))


@contextmanager
def heartbeat(redis: Redis, integration_id: int, token: str, ttl_seconds: float,
              also: Callable[[], object] | None = None) -> Iterator[None]:
    """Renew the lock every third of its TTL while the body runs (in a daemon thread).

    `also` runs at each renewal: the scan's heartbeat in the store (`Store.touch_scan`), which is what
    a CLI or web scan of the integration checks. Its failures are logged; the next beat retries.
    """
    def renew() -> None:
        renew_scan_lock(redis, integration_id, token, ttl_seconds)
        if also is not None:
            try:
                also()
            except Exception as exc:
                log.warning("integration %s: scan heartbeat not recorded (%s)", integration_id, type(exc).__name__)

    renew()
    with repeating(ttl_seconds / 3, renew, name=f"scan-lock-{integration_id}"):
        yield
