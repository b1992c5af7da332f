"""A distributed scan whose tasks wait in the queue stays alive while a worker is (PostgreSQL and Redis):
each worker beats for the unfinished scans (liveness.py); with no worker alive the scan is taken for dead
after the stale time, as before. A beat never revives a concluded or interrupted scan, and never fails
its worker."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("celery", reason="the distributed extra is not installed")

from redis import Redis

from openai_casb.distributed import jobs, liveness, work
from openai_casb.distributed.locks import KEY_PREFIX, ScanAlreadyRunningError, release_scan_lock, scan_lock_held
from openai_casb.distributed.settings import DistributedSettings
from openai_casb.policy import Policy
from openai_casb.store import Integration, ScanRunningError, ScanStatus, Store
from tests.distributed.clocked import NOW, RecordingDispatch, scan_row
from tests.distributed.conftest import Workers, wait_for, worker_env

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

LOCK_TTL = 30.0




@pytest.fixture
def integration(store: Store) -> Integration:
    # A fresh integration per test: the session's database is shared by the distributed tests.
    return store.ensure_integration(f"org-liveness-{secrets.token_hex(4)}", None, "Liveness")


def runtime(store: Store, redis: Redis, lock_ttl: float = LOCK_TTL) -> work.Runtime:
    return work.Runtime(store=store, redis=redis, config=DistributedSettings(lock_ttl_seconds=lock_ttl),
                        policy=Policy(), dispatch=RecordingDispatch())


def lock_ms(redis: Redis, integration_id: int) -> int:
    return int(redis.pttl(f"{KEY_PREFIX}:{integration_id}"))


def advance(store: Store, delta: timedelta) -> None:
    store.clock.now += delta  # type: ignore[attr-defined]


def test_a_beat_keeps_a_queued_scan_and_its_lock_alive(store: Store, redis: Redis, integration: Integration) -> None:
    rt = runtime(store, redis)
    scan_id = work.trigger_scan(rt, integration.id, now=NOW)
    job = jobs.get_job(store.engine, scan_id)
    assert job is not None
    try:
        for _ in range(3):  # 12 minutes in the queue, a worker beating every 4 (the test's clock)
            advance(store, timedelta(minutes=4))
            redis.pexpire(f"{KEY_PREFIX}:{integration.id}", 1000)  # as if the TTL had almost run out
            assert liveness.beat_once(lambda: rt) >= 1
            assert scan_row(store, scan_id).heartbeat_at == store.clock()
            assert lock_ms(redis, integration.id) > 1000  # renewed with the job's token
        with pytest.raises(ScanRunningError, match=f"scan {scan_id}"):
            store.begin_scan(integration.id)  # what `openai-casb scan` calls first
        with pytest.raises(ScanAlreadyRunningError):
            work.trigger_scan(runtime(store, redis), integration.id, now=store.clock())
        assert [(s.id, s.status) for s in store.list_scans(integration.id)] == [(scan_id, ScanStatus.RUNNING)]

        # No worker beats any more: after the stale time the scan is taken for dead, as before.
        advance(store, timedelta(minutes=6))
        cli_scan = store.begin_scan(integration.id)
        assert {s.id: s.status for s in store.list_scans(integration.id)} == {
            scan_id: ScanStatus.INTERRUPTED, cli_scan: ScanStatus.RUNNING}
    finally:
        release_scan_lock(redis, integration.id, job.lock_token)


def test_a_beat_never_revives_a_scan_that_ended(store: Store, redis: Redis, integration: Integration) -> None:
    rt = runtime(store, redis)
    interrupted = work.trigger_scan(rt, integration.id, now=NOW)
    job = jobs.get_job(store.engine, interrupted)
    assert job is not None
    try:
        # Taken for dead by a CLI scan; its job row stays `running` (no task ran to see it).
        advance(store, timedelta(minutes=6))
        cli_scan = store.begin_scan(integration.id)
        cli_beat = scan_row(store, cli_scan).heartbeat_at
        redis.pexpire(f"{KEY_PREFIX}:{integration.id}", 1000)
        advance(store, timedelta(minutes=1))
        liveness.beat_once(lambda: rt)
        assert scan_row(store, interrupted).status == ScanStatus.INTERRUPTED
        assert scan_row(store, interrupted).heartbeat_at == NOW
        assert scan_row(store, cli_scan).heartbeat_at == cli_beat  # not distributed: its own runner beats
        assert not scan_lock_held(redis, integration.id)  # the dead scan's lock is released with its job
    finally:
        release_scan_lock(redis, integration.id, job.lock_token)

    # A scan that failed with its job left behind (a crash between the two writes) stays failed.
    other = store.ensure_integration(f"org-liveness-{secrets.token_hex(4)}", None, "Liveness")
    failed = work.trigger_scan(rt, other.id, now=store.clock())
    failed_job = jobs.get_job(store.engine, failed)
    assert failed_job is not None
    try:
        store.fail_scan(failed, "scan aborted: test")
        advance(store, timedelta(minutes=1))
        liveness.beat_once(lambda: rt)
        row = scan_row(store, failed)
        assert (row.status, row.heartbeat_at) == (ScanStatus.FAILED, store.clock() - timedelta(minutes=1))
    finally:
        release_scan_lock(redis, other.id, failed_job.lock_token)


def test_a_beat_closes_the_job_of_a_scan_taken_for_dead(store: Store, redis: Redis, integration: Integration) -> None:
    """Its tasks lost (a broker restarted without persistence), a scan is marked interrupted by the next
    scan of its integration: its job must not stay `running` with its parts stored for ever."""
    rt = runtime(store, redis)
    dead = work.trigger_scan(rt, integration.id, now=NOW)
    job = jobs.get_job(store.engine, dead)
    assert job is not None
    jobs.put_parts(store.engine, dead, {work.crawl_part_id("admin"): "{}", work.files_part_id("admin-x-0"): "[]"})
    redis.delete(f"{KEY_PREFIX}:{integration.id}")  # the broker's Redis came back empty
    advance(store, timedelta(minutes=6))
    cli_scan = store.begin_scan(integration.id)  # takes the queued scan for dead
    other = store.ensure_integration(f"org-liveness-{secrets.token_hex(4)}", None, "Liveness")
    alive = work.trigger_scan(rt, other.id, now=store.clock())
    alive_job = jobs.get_job(store.engine, alive)
    assert alive_job is not None
    try:
        jobs.put_parts(store.engine, alive, {work.crawl_part_id("admin"): "{}"})
        liveness.beat_once(lambda: rt)
        assert scan_row(store, dead).status == ScanStatus.INTERRUPTED
        assert jobs.get_job(store.engine, dead).stage == jobs.DONE  # type: ignore[union-attr]
        assert jobs.parts_with_prefix(store.engine, dead, "") == {}
        # The running scans are left alone: the CLI's, and the other integration's with its parts and lock.
        assert scan_row(store, cli_scan).status == ScanStatus.RUNNING
        assert jobs.get_job(store.engine, alive).stage == jobs.RUNNING  # type: ignore[union-attr]
        assert set(jobs.parts_with_prefix(store.engine, alive, "")) == {work.crawl_part_id("admin")}
        assert scan_lock_held(redis, other.id)
    finally:
        release_scan_lock(redis, other.id, alive_job.lock_token)


def test_a_failing_beat_logs_and_lets_the_worker_go_on(
    store: Store, redis: Redis, integration: Integration, caplog: pytest.LogCaptureFixture
) -> None:
    def unreachable() -> work.Runtime:
        raise ConnectionError("database at postgresql://user:secret@db/casb is down")

    with caplog.at_level(logging.WARNING, logger="openai_casb.distributed.liveness"):
        assert liveness.beat_once(unreachable) == 0
    assert "not renewed (ConnectionError)" in caplog.text
    assert "secret" not in caplog.text

    # Redis away: the store's heartbeat is still renewed, the lock's failure only logged.
    scan_id = work.trigger_scan(runtime(store, redis), integration.id, now=NOW)
    job = jobs.get_job(store.engine, scan_id)
    assert job is not None
    try:
        with Redis.from_url("redis://127.0.0.1:19017/0", socket_connect_timeout=1) as away:
            rt = work.Runtime(store=store, redis=away, config=DistributedSettings(), policy=Policy(),
                              dispatch=RecordingDispatch())
            advance(store, timedelta(minutes=4))
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="openai_casb.distributed.liveness"):
                assert liveness.beat_once(lambda: rt) >= 1
        assert scan_row(store, scan_id).heartbeat_at == store.clock()
        assert f"the lock of integration {integration.id} not renewed (ConnectionError)" in caplog.text
    finally:
        release_scan_lock(redis, integration.id, job.lock_token)


def test_beat_interval_fits_in_the_stale_time_and_the_lock_ttl() -> None:
    assert liveness.beat_interval(300, timedelta(minutes=5)) == 30
    assert liveness.beat_interval(6, timedelta(minutes=5)) == 2
    assert liveness.beat_interval(300, timedelta(seconds=3)) == 1
    assert liveness.beat_interval(300, timedelta(0)) == liveness.MIN_BEAT_SECONDS


# --- with real worker processes ------------------------------------------------------------------

STALE_SECONDS = 2.0
WORKER_LOCK_TTL = 4.0  # the smallest allowed is 3 s: the wait below outlasts it


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(env={}, log_dir=tmp_path)
    yield pool
    pool.stop()


@pytest.fixture
def real_clock_store(postgres_url: str) -> Iterator[Store]:
    with Store.open(postgres_url) as opened:
        opened.scan_stale_after = timedelta(seconds=STALE_SECONDS)
        yield opened


def taken_for_dead(store: Store, integration_id: int) -> int | None:
    """What `openai-casb scan` does first: the new scan's id, or None while another scan is alive."""
    try:
        return store.begin_scan(integration_id)
    except ScanRunningError:
        return None


@pytest.mark.slow
def test_a_live_worker_keeps_a_queued_scan_alive_and_none_does_not(
    real_clock_store: Store, redis: Redis, redis_url: str, postgres_url: str, workers: Workers
) -> None:
    store = real_clock_store
    integration = store.ensure_integration(f"org-liveness-{secrets.token_hex(4)}", None, "Liveness")
    workers.env = worker_env(redis_url, postgres_url, [], OPENAI_CASB_SCAN_STALE_SECONDS=f"{STALE_SECONDS:g}",
                             OPENAI_CASB_LOCK_TTL_SECONDS=f"{WORKER_LOCK_TTL:g}")
    workers.start(1)
    wait_for(lambda: "ready." in workers.logs(), 60, "the worker to start", workers)

    rt = runtime(store, redis, lock_ttl=WORKER_LOCK_TTL)
    scan_id = work.trigger_scan(rt, integration.id)  # its tasks wait: nothing is sent to the worker
    job = jobs.get_job(store.engine, scan_id)
    assert job is not None
    try:
        time.sleep(3 * WORKER_LOCK_TTL)  # past the stale time and the lock's TTL, several times over
        assert taken_for_dead(store, integration.id) is None
        with pytest.raises(ScanAlreadyRunningError):
            work.trigger_scan(runtime(store, redis, lock_ttl=WORKER_LOCK_TTL), integration.id)
        assert scan_lock_held(redis, integration.id)
        assert scan_row(store, scan_id).status == ScanStatus.RUNNING

        workers.stop()  # no worker alive: the scan is dead once the stale time has passed
        taken: list[int] = []

        def take() -> bool:
            new = taken_for_dead(store, integration.id)
            if new is not None:
                taken.append(new)
            return bool(taken)

        wait_for(take, 60, "the scan to be taken for dead")
        assert {s.id: s.status for s in store.list_scans(integration.id)} == {
            scan_id: ScanStatus.INTERRUPTED, taken[-1]: ScanStatus.RUNNING}
    finally:
        release_scan_lock(redis, integration.id, job.lock_token)


@pytest.mark.slow
def test_with_no_worker_a_queued_scan_is_taken_for_dead(real_clock_store: Store, redis: Redis) -> None:
    store = real_clock_store
    integration = store.ensure_integration(f"org-liveness-{secrets.token_hex(4)}", None, "Liveness")
    rt = runtime(store, redis, lock_ttl=WORKER_LOCK_TTL)
    scan_id = work.trigger_scan(rt, integration.id)
    job = jobs.get_job(store.engine, scan_id)
    assert job is not None
    try:
        time.sleep(2 * STALE_SECONDS)
        cli_scan = taken_for_dead(store, integration.id)
        assert cli_scan is not None
        assert {s.id: s.status for s in store.list_scans(integration.id)} == {
            scan_id: ScanStatus.INTERRUPTED, cli_scan: ScanStatus.RUNNING}
    finally:
        release_scan_lock(redis, integration.id, job.lock_token)


def test_a_scan_idle_past_the_limit_is_left_to_die(store: Store, redis: Redis, integration: Integration) -> None:
    """Tasks lost with the broker (a Redis restarted without persistence) never finish: once no part
    of the scan was stored for OPENAI_CASB_SCAN_MAX_IDLE_SECONDS, the beat stops keeping it alive."""
    rt = work.Runtime(store=store, redis=redis, policy=Policy(), dispatch=RecordingDispatch(),
                      config=DistributedSettings(lock_ttl_seconds=LOCK_TTL, scan_max_idle_seconds=60))
    scan_id = work.trigger_scan(rt, integration.id, now=NOW)
    job = jobs.get_job(store.engine, scan_id)
    assert job is not None
    try:
        store.clock.now = datetime.now(UTC) + timedelta(seconds=30)  # type: ignore[attr-defined]
        liveness.beat_once(lambda: rt)
        assert scan_row(store, scan_id).heartbeat_at == store.clock()  # began 30 s ago: alive

        store.clock.now = datetime.now(UTC) + timedelta(minutes=2)  # type: ignore[attr-defined]
        before = scan_row(store, scan_id).heartbeat_at
        liveness.beat_once(lambda: rt)
        assert scan_row(store, scan_id).heartbeat_at == before  # nothing stored for 2 minutes: not renewed

        jobs.put_parts(store.engine, scan_id, {"dlp:late": "{}"})  # a task of the scan finished
        store.clock.now = datetime.now(UTC) + timedelta(seconds=30)  # type: ignore[attr-defined]
        liveness.beat_once(lambda: rt)
        assert scan_row(store, scan_id).heartbeat_at == store.clock()
    finally:
        release_scan_lock(redis, integration.id, job.lock_token)
