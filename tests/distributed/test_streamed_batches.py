"""A crawl task hands its files off in DLP batches as it lists them (a worker holds at most one batch
of file references), and a crawl retried after dying midway counts each file once.

The tasks run in this process through work.py with a dispatcher that records what would be queued;
the emulator, PostgreSQL and Redis are real (conftest.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("celery", reason="the distributed extra is not installed")

from redis import Redis

from openai_casb.cli.demo_cmd import settings_for_emulator
from openai_casb.distributed import jobs, work
from openai_casb.distributed.finalize import run_finalize
from openai_casb.distributed.settings import DistributedSettings
from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator
from openai_casb.emulator.org import Org
from openai_casb.policy import Policy
from openai_casb.scanning import ScanRequest, run_scan
from openai_casb.scanning.run import DLP_SOURCES
from openai_casb.store import Store
from tests.distributed.test_distributed_scan import active, write_config

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ORG = ("users=20,invites=4,projects=2,keys_per_project=2,admin_keys=2,gpts=6,chatgpt_projects=3,"
       "conversations=30,files=24")
BATCH = 4


class Killed(RuntimeError):
    """The crawl's worker dies here (what follows in the task never runs)."""


@dataclass
class Recorder:
    """work.Dispatch that records the tasks a broker would queue, and whether the crawl part of the
    group listing files was stored when each DLP batch was sent."""

    store: Store
    die_after_batches: int | None = None
    crawls: list[str] = field(default_factory=list)
    batches: list[str] = field(default_factory=list)
    sent_while_crawling: list[bool] = field(default_factory=list)
    finalizes: int = 0

    def crawl_part(self, scan_id: int, group: str) -> None:
        self.crawls.append(group)

    def dlp_batch(self, scan_id: int, batch: str) -> None:
        crawled = jobs.get_part(self.store.engine, scan_id, work.crawl_part_id("compliance")) is not None
        self.batches.append(batch)
        self.sent_while_crawling.append(not crawled)
        if self.die_after_batches is not None and len(self.batches) >= self.die_after_batches:
            raise Killed("worker killed mid-crawl")

    def finalize(self, scan_id: int) -> None:
        self.finalizes += 1


@dataclass(frozen=True)
class Reference:
    active: set[tuple[str, str]]
    dlp_sources: dict[str, Any]


def dlp_sources(store: Store, scan_id: int) -> dict[str, Any]:
    """What the scan reports of its DLP sources: files scanned, not scanned, failed (a double count shows here)."""
    (record,) = [r for r in store.list_scans() if r.id == scan_id]
    names = {s.value for s in DLP_SOURCES}
    return {r["source"]: r for r in record.source_reports if r["source"] in names}


def single_process(org: Org, path: Path) -> Reference:
    store = Store.open(str(path))
    with running_emulator(org, EmulatorConfig(rate_limit_scale=100)) as emulator:
        request = ScanRequest(settings=settings_for_emulator(emulator), policy=Policy())
        asyncio.run(run_scan(store, request, now=NOW))
    (scan,) = store.list_scans()
    return Reference(active(store), dlp_sources(store, scan.id))


@dataclass
class Scan:
    rt: work.Runtime
    dispatch: Recorder
    scan_id: int
    integration_id: int


def started(org: Org, emulator: Any, tmp_path: Path, redis_url: str, postgres_url: str, redis: Redis) -> Scan:
    settings = settings_for_emulator(emulator)
    config = DistributedSettings(
        broker_url=redis_url, redis_url=redis_url, db_url=postgres_url, lock_ttl_seconds=30.0,
        dlp_batch_files=BATCH, integration_configs=(write_config(settings, tmp_path / "streamed.toml"),),
    )
    store = Store.open(postgres_url)
    dispatch = Recorder(store)
    rt = work.Runtime(store=store, redis=redis, config=config, policy=Policy(), dispatch=dispatch)
    integration = store.ensure_integration(settings.org_id, settings.workspace_id, "streamed")
    scan_id = work.trigger_scan(rt, integration.id, now=NOW)
    assert dispatch.crawls == ["admin", "compliance"]
    return Scan(rt, dispatch, scan_id, integration.id)


def files_parts(scan: Scan) -> set[str]:
    return jobs.part_ids_with_prefix(scan.rt.store.engine, scan.scan_id, "files:")


def run_batches_and_finalize(scan: Scan) -> None:
    """Workers run every queued batch (orphans and a duplicate delivery too), then the finalizer."""
    for batch in scan.dispatch.batches:
        assert scan.dispatch.finalizes == 0  # never before every counted batch is stored
        work.run_dlp_batch(scan.rt, scan.scan_id, batch)
    assert scan.dispatch.finalizes == 1
    work.run_dlp_batch(scan.rt, scan.scan_id, scan.dispatch.batches[0])  # finds its outcome stored
    run_finalize(scan.rt, scan.scan_id, "finalizer-1")


def test_batches_are_queued_while_the_files_are_listed(
    tmp_path: Path, redis_url: str, postgres_url: str, redis: Redis
) -> None:
    org = generate_org(ORG, seed=41, now=NOW)  # a seed no other test of the session database uses
    want = single_process(org, tmp_path / "reference.db")
    with running_emulator(org, EmulatorConfig(rate_limit_scale=100)) as emulator:
        scan = started(org, emulator, tmp_path, redis_url, postgres_url, redis)
        work.run_crawl_part(scan.rt, scan.scan_id, "admin")
        assert scan.dispatch.batches == []  # the admin group lists no files
        work.run_crawl_part(scan.rt, scan.scan_id, "compliance")
        sent = list(scan.dispatch.batches)
        # Every batch but the crawl's tail was queued before its crawl part was stored, as soon as
        # BATCH files were listed; the tail just before.
        assert len(sent) >= 4
        assert all(scan.dispatch.sent_while_crawling)
        assert files_parts(scan) == {work.files_part_id(b) for b in sent}
        assert scan.dispatch.finalizes == 0
        run_batches_and_finalize(scan)
    store = scan.rt.store
    assert jobs.get_job(store.engine, scan.scan_id).stage == jobs.DONE  # type: ignore[union-attr]
    assert active(store, scan.integration_id) == want.active
    assert dlp_sources(store, scan.scan_id) == want.dlp_sources


def test_a_crawl_killed_after_queueing_batches_is_retried_without_counting_a_file_twice(
    tmp_path: Path, redis_url: str, postgres_url: str, redis: Redis
) -> None:
    org = generate_org(ORG, seed=42, now=NOW)
    want = single_process(org, tmp_path / "reference.db")
    with running_emulator(org, EmulatorConfig(rate_limit_scale=100)) as emulator:
        scan = started(org, emulator, tmp_path, redis_url, postgres_url, redis)
        work.run_crawl_part(scan.rt, scan.scan_id, "admin")
        scan.dispatch.die_after_batches = 2
        with pytest.raises(Killed):
            work.run_crawl_part(scan.rt, scan.scan_id, "compliance")
        orphans = list(scan.dispatch.batches)
        assert len(orphans) == 2
        assert files_parts(scan) == {work.files_part_id(b) for b in orphans}
        # Its batches run meanwhile; the scan is not finalized on them.
        for batch in orphans:
            work.run_dlp_batch(scan.rt, scan.scan_id, batch)
        assert scan.dispatch.finalizes == 0

        # The broker redelivers the crawl: a new attempt lists every file again under its own keys.
        scan.dispatch.die_after_batches = None
        work.run_crawl_part(scan.rt, scan.scan_id, "compliance")
        retried = scan.dispatch.batches[len(orphans):]
        assert not set(retried) & set(orphans)
        assert files_parts(scan) == {work.files_part_id(b) for b in orphans + retried}
        counted = work.counted_batches(scan.rt.store.engine, jobs.get_job(scan.rt.store.engine, scan.scan_id))  # type: ignore[arg-type]
        assert counted == retried

        # Delivered once more after its part was stored: nothing is listed or queued again.
        work.run_crawl_part(scan.rt, scan.scan_id, "compliance")
        assert scan.dispatch.batches == orphans + retried
        assert files_parts(scan) == {work.files_part_id(b) for b in orphans + retried}
        run_batches_and_finalize(scan)
    store = scan.rt.store
    assert active(store, scan.integration_id) == want.active
    assert dlp_sources(store, scan.scan_id) == want.dlp_sources  # the orphans' files counted nowhere
