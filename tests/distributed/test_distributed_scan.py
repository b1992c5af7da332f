"""Two real Celery workers scan emulated organizations exactly as one process does (within low
quotas, never refused), and lose nothing when one is SIGKILLed mid-scan. Needs Redis and PostgreSQL (conftest.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openai_casb.cli.demo_cmd import settings_for_emulator
from openai_casb.config import Settings
from openai_casb.distributed import jobs
from openai_casb.distributed.models import ScanPartRow
from openai_casb.distributed.schedule import schedules
from openai_casb.distributed.settings import load_distributed_settings
from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator
from openai_casb.emulator.org import Org
from openai_casb.policy import Policy
from openai_casb.scanning import ScanRequest, run_scan
from openai_casb.store import EventType, InstanceStatus, Store
from tests.distributed.conftest import Workers, start_scheduler, wait_for, worker_env

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SMALL = ("users=40,invites=8,projects=3,keys_per_project=3,admin_keys=3,gpts=10,chatgpt_projects=4,"
         "conversations=40,files=30")
OTHER = ("users=25,invites=5,projects=2,keys_per_project=2,admin_keys=2,gpts=6,chatgpt_projects=3,"
         "conversations=20,files=12")
LOW_QUOTA_SCALE = 0.2  # the emulator then allows 20 file downloads a minute; the scan needs more


def write_config(settings: Settings, path: Path, extra: tuple[str, ...] = ()) -> Path:
    """A worker's TOML config for one integration (it holds keys: readable by the owner only)."""
    fields = ("admin_key", "compliance_key", "org_id", "workspace_id", "admin_base_url", "compliance_base_url",
              "admin_requests_per_window", "compliance_list_requests_per_window",
              "compliance_object_requests_per_window", *extra)
    lines = []
    for name in fields:
        value = getattr(settings, name)
        value = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        lines.append(f'{name} = "{value}"' if isinstance(value, str) else f"{name} = {value}")
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def reference(org: Org, tmp_path: Path) -> set[tuple[str, str]]:
    """The findings of a single-process scan of `org`."""
    store = Store.open(str(tmp_path / f"reference-{org.organization_id}.db"))
    with running_emulator(org, EmulatorConfig(rate_limit_scale=100)) as emulator:
        request = ScanRequest(settings=settings_for_emulator(emulator), policy=Policy())
        asyncio.run(run_scan(store, request, now=NOW))
    return active(store)


def active(store: Store, integration_id: int | None = None) -> set[tuple[str, str]]:
    found = store.list_instances(integration_id=integration_id, status=InstanceStatus.ACTIVE, limit=100_000)
    keys = [(i.finding_type_id, i.asset_id) for i in found]
    assert len(keys) == len(set(keys)), "an instance was recorded twice"
    return set(keys)


def start(workers: Workers, redis_url: str, db_url: str, configs: list[Path], **env: str) -> Store:
    workers.env = worker_env(redis_url, db_url, configs, **env)
    store = Store.open(db_url)
    workers.start(2)
    return store


def trigger(store: Store, workers: Workers, integration_id: int) -> int:
    from openai_casb.distributed.client import trigger as trigger_scan

    return trigger_scan(store, integration_id, now=NOW, config=load_distributed_settings(workers.env))


def done(store: Store, scan_id: int) -> bool:
    job = jobs.get_job(store.engine, scan_id)
    return job is not None and job.stage == jobs.DONE


def running_tasks(workers: Workers, index: int) -> set[str]:
    received, finished = workers.task_ids(index)
    return received - finished


def integration_of(store: Store, settings: Settings) -> int:
    return store.ensure_integration(settings.org_id, settings.workspace_id, "test").id


def test_two_workers_find_what_one_process_finds(
    tmp_path: Path, redis_url: str, postgres_url: str, workers: Workers
) -> None:
    orgs = [generate_org(SMALL, seed=3, now=NOW), generate_org(OTHER, seed=4, now=NOW)]
    expected = [reference(org, tmp_path) for org in orgs]
    low = EmulatorConfig(rate_limit_scale=LOW_QUOTA_SCALE)
    with running_emulator(orgs[0], low) as first, running_emulator(orgs[1], EmulatorConfig()) as second:
        settings = [settings_for_emulator(first, LOW_QUOTA_SCALE), settings_for_emulator(second, 1)]
        configs = [write_config(s, tmp_path / f"integration{n}.toml") for n, s in enumerate(settings)]
        store = start(workers, redis_url, postgres_url, configs)
        ids = [integration_of(store, s) for s in settings]
        scans = [trigger(store, workers, i) for i in ids]
        wait_for(lambda: all(done(store, s) for s in scans), 150, "both scans", workers)
        stats = [first.stats(), second.stats()]
    for integration_id, want in zip(ids, expected, strict=True):
        assert active(store, integration_id) == want
    assert [s["rate_limited"] for s in stats] == [0, 0]
    assert all(s["total"] > 0 for s in stats)
    scanned = {r.id: r.status for r in store.list_scans()}
    assert {scanned[s] for s in scans} == {"complete"}
    with Session(store.engine) as session:  # parts are dropped once the scan is concluded
        assert session.scalar(select(func.count()).select_from(ScanPartRow)) == 0


def test_a_worker_killed_mid_scan_loses_and_duplicates_nothing(
    tmp_path: Path, redis_url: str, postgres_url: str, workers: Workers
) -> None:
    org = generate_org(SMALL, seed=5, now=NOW)
    expected = reference(org, tmp_path)
    with running_emulator(org, EmulatorConfig(rate_limit_scale=100, latency_ms=150)) as emulator:
        settings = settings_for_emulator(emulator)
        store = start(workers, redis_url, postgres_url, [write_config(settings, tmp_path / "killed.toml")],
                      OPENAI_CASB_DLP_BATCH_FILES="4")
        scan_id = trigger(store, workers, integration_of(store, settings))

        def some_parts_stored() -> bool:
            return bool(jobs.parts_with_prefix(store.engine, scan_id, "dlp:"))

        wait_for(some_parts_stored, 90, "the first DLP batch", workers)
        # Kill a worker in the middle of a task: which of the two holds one is up to the broker.
        busy: list[int] = []

        def a_worker_busy() -> bool:
            busy[:] = [n for n in range(2) if running_tasks(workers, n)]
            return bool(busy)

        wait_for(a_worker_busy, 60, "a worker running a task", workers)
        assert not done(store, scan_id)
        workers.kill(busy[0])
        assert running_tasks(workers, busy[0]), "the worker was idle when killed: the test proves nothing"
        wait_for(lambda: done(store, scan_id), 120, "the scan after a worker was killed", workers)
    integration_id = integration_of(store, settings)
    assert active(store, integration_id) == expected
    (record,) = [r for r in store.list_scans(integration_id) if r.id == scan_id]
    assert record.status == "complete"
    detected = [e for e in store.events(integration_id=integration_id, limit=100_000)
                  if e.event_type == EventType.DETECTED]
    assert len(detected) == len(expected)




def test_scheduler_scans_each_configured_integration_on_its_interval(
    tmp_path: Path, redis_url: str, postgres_url: str, workers: Workers
) -> None:
    org = generate_org(OTHER, seed=6, now=NOW)
    with running_emulator(org, EmulatorConfig(rate_limit_scale=100)) as emulator:
        settings = settings_for_emulator(emulator)
        configs = [write_config(settings, tmp_path / "scheduled.toml")]
        workers.env = worker_env(redis_url, postgres_url, configs, OPENAI_CASB_SCHEDULER_TICK_SECONDS="1")
        store = Store.open(postgres_url)
        workers.start(1)
        beat = start_scheduler(workers.env, tmp_path)
        try:
            integration_id = integration_of(store, settings)

            def scanned() -> bool:
                return any(r.status == "complete" for r in store.list_scans(integration_id))

            wait_for(scanned, 90, "a scheduled scan", workers)
        finally:
            beat.terminate()
            beat.wait(20)
    (entry,) = [s for s in schedules(store.engine) if s.integration_id == integration_id]
    assert entry.interval.total_seconds() == 12 * 3600
    assert entry.next_run_at > datetime.now(UTC)  # the next one waits for its interval
    # Each tick saw the integration not due (or its scan running): exactly one scan was started.
    assert len(store.list_scans(integration_id)) == 1
