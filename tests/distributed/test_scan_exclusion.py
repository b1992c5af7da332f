"""One scan of an integration at a time across `openai-casb scan` and the workers (PostgreSQL and Redis):
a trigger is refused while a CLI scan runs, by the store's check, and frees the Redis lock again; a CLI
scan is refused while a distributed one runs; the workers' tasks renew the scan's heartbeat in the store."""

from __future__ import annotations

import secrets
import threading
from datetime import timedelta

import pytest

pytest.importorskip("celery", reason="the distributed extra is not installed")

from redis import Redis

from openai_casb.distributed import jobs, work
from openai_casb.distributed.locks import (
    ScanAlreadyRunningError,
    acquire_scan_lock,
    heartbeat,
    release_scan_lock,
    scan_lock_held,
)
from openai_casb.distributed.settings import DistributedSettings
from openai_casb.policy import Policy
from openai_casb.store import Integration, ScanRunningError, ScanStatus, Store
from tests.distributed.clocked import NOW, RecordingDispatch, scan_row


@pytest.fixture
def integration(store: Store) -> Integration:
    # A fresh integration per test: the session's database is shared by the distributed tests.
    return store.ensure_integration(f"org-exclusion-{secrets.token_hex(4)}", None, "Exclusion")


def runtime(store: Store, redis: Redis) -> work.Runtime:
    return work.Runtime(store=store, redis=redis, config=DistributedSettings(lock_ttl_seconds=30.0),
                        policy=Policy(), dispatch=RecordingDispatch())


@pytest.mark.redis
@pytest.mark.postgres
def test_a_trigger_is_refused_while_a_cli_scan_runs(store: Store, redis: Redis, integration: Integration) -> None:
    cli_scan = store.begin_scan(integration.id)  # `openai-casb scan` holds no Redis lock
    rt = runtime(store, redis)
    with pytest.raises(ScanAlreadyRunningError, match=f"a scan of Exclusion is running \\(scan {cli_scan},"):
        work.trigger_scan(rt, integration.id, now=NOW)
    assert not scan_lock_held(redis, integration.id)  # the lock it took is released
    assert [(s.id, s.status) for s in store.list_scans(integration.id)] == [(cli_scan, ScanStatus.RUNNING)]
    assert rt.dispatch.sent == []  # type: ignore[attr-defined]

    # The CLI scan's process died: once its heartbeat is stale, the trigger takes over.
    store.clock.now += timedelta(minutes=6)  # type: ignore[attr-defined]
    scan_id = work.trigger_scan(rt, integration.id, now=NOW)
    assert {s.id: s.status for s in store.list_scans(integration.id)} == {
        cli_scan: ScanStatus.INTERRUPTED, scan_id: ScanStatus.RUNNING}
    job = jobs.get_job(store.engine, scan_id)
    assert job is not None
    release_scan_lock(redis, integration.id, job.lock_token)


@pytest.mark.redis
@pytest.mark.postgres
def test_a_cli_scan_is_refused_while_a_distributed_scan_runs_and_its_tasks_beat(
    store: Store, redis: Redis, integration: Integration
) -> None:
    rt = runtime(store, redis)
    scan_id = work.trigger_scan(rt, integration.id, now=NOW)
    job = jobs.get_job(store.engine, scan_id)
    assert job is not None
    try:
        # Queued tasks run 4 minutes later; each renews the heartbeat as it starts.
        store.clock.now += timedelta(minutes=4)  # type: ignore[attr-defined]
        with work.task_heartbeat(rt, job):
            assert scan_row(store, scan_id).heartbeat_at == store.clock()
        store.clock.now += timedelta(minutes=4)  # type: ignore[attr-defined]
        with pytest.raises(ScanRunningError, match=f"scan {scan_id}"):
            store.begin_scan(integration.id)  # what `openai-casb scan` and the web launcher call first
        assert scan_row(store, scan_id).status == ScanStatus.RUNNING
    finally:
        release_scan_lock(redis, integration.id, job.lock_token)


@pytest.mark.redis
def test_heartbeat_runs_its_companion_and_survives_its_failures(redis: Redis) -> None:
    token = acquire_scan_lock(redis, 951, ttl_seconds=0.3)
    calls: list[int] = []
    renewed = threading.Event()

    def companion() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("database busy")  # logged; the beats go on
        if len(calls) >= 3:
            renewed.set()

    try:
        with heartbeat(redis, 951, token, 0.3, also=companion):
            assert calls == [1]  # at once, before the body
            assert renewed.wait(30)  # a bound, not a timing assertion
            assert scan_lock_held(redis, 951)
    finally:
        release_scan_lock(redis, 951, token)
    assert len(calls) >= 3
