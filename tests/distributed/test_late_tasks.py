"""A task still running when its scan concludes stores nothing (PostgreSQL and Redis): the clean-up
dropped the scan's parts, and a part stored after it would stay in the database for ever."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest

pytest.importorskip("celery", reason="the distributed extra is not installed")

from redis import Redis

from openai_casb.distributed import finalize, jobs, work
from openai_casb.distributed.codec import dump_files
from openai_casb.distributed.locks import scan_lock_held
from openai_casb.distributed.settings import DistributedConfigError, DistributedSettings
from openai_casb.inventory.model import AssetKind, FileRef
from openai_casb.policy import Policy
from openai_casb.scanning.pipeline import DlpOutcome
from openai_casb.store import ScanStatus, Store
from tests.distributed.clocked import NOW, RecordingDispatch, scan_row

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def _runtime(store: Store, redis: Redis) -> work.Runtime:
    return work.Runtime(store=store, redis=redis, config=DistributedSettings(lock_ttl_seconds=30),
                        policy=Policy(), dispatch=RecordingDispatch())


def test_a_batch_that_finishes_after_its_scan_concluded_stores_nothing(
    store: Store, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    integration = store.ensure_integration(f"org-late-{secrets.token_hex(4)}", None, "Late")
    rt = _runtime(store, redis)
    scan_id = work.trigger_scan(rt, integration.id, now=NOW)
    jobs.put_parts(store.engine, scan_id, {work.files_part_id("admin-a-0"): dump_files([])})

    async def scanned_while_the_scan_ends(rt: work.Runtime, *_: Any) -> DlpOutcome:
        # e.g. the orphan batch of a duplicate crawl, still scanning when the finalizer (or a failure) ended the scan
        finalize.fail_job(rt, scan_id, "scan aborted: test")
        return DlpOutcome()

    monkeypatch.setattr(work, "settings_for", lambda *_: None)
    monkeypatch.setattr(work, "_scan_files", scanned_while_the_scan_ends)
    work.run_dlp_batch(rt, scan_id, "admin-a-0")

    assert scan_row(store, scan_id).status == ScanStatus.FAILED
    assert jobs.get_job(store.engine, scan_id).stage == jobs.DONE  # type: ignore[union-attr]
    assert jobs.parts_with_prefix(store.engine, scan_id, "") == {}
    assert not scan_lock_held(redis, integration.id)


def test_a_crawl_that_hands_off_after_its_scan_concluded_queues_nothing(store: Store, redis: Redis) -> None:
    integration = store.ensure_integration(f"org-late-{secrets.token_hex(4)}", None, "Late")
    rt = _runtime(store, redis)
    scan_id = work.trigger_scan(rt, integration.id, now=NOW)
    finalize.fail_job(rt, scan_id, "scan aborted: test")
    hand_off = work.BatchHandOff(rt, scan_id, "compliance")  # a duplicate crawl still listing files
    asyncio.run(hand_off.add(FileRef(kind=AssetKind.CONVERSATION_FILE, file_id="file-1", name="a.txt",
                                     container_id="conv-1")))
    hand_off.flush()
    assert jobs.parts_with_prefix(store.engine, scan_id, "") == {}
    assert rt.dispatch.sent == [("crawl", scan_id, "admin")]  # type: ignore[attr-defined]


def test_a_worker_with_another_policy_fails_the_scan_instead_of_mixing_policies(
    store: Store, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files of a batch were scanned under one worker's policy; a finalizer on a worker started with
    another policy (OPENAI_CASB_POLICY) must not conclude the scan under its own."""
    integration = store.ensure_integration(f"org-policy-{secrets.token_hex(4)}", None, "Policy")
    first = _runtime(store, redis)
    scan_id = work.trigger_scan(first, integration.id, now=NOW)
    jobs.put_parts(store.engine, scan_id, {work.files_part_id("admin-a-0"): dump_files([])})

    async def scanned(*_: Any) -> DlpOutcome:
        return DlpOutcome()

    monkeypatch.setattr(work, "settings_for", lambda *_: None)
    monkeypatch.setattr(work, "_scan_files", scanned)
    work.run_dlp_batch(first, scan_id, "admin-a-0")  # under the default policy

    other = work.Runtime(store=store, redis=redis, config=first.config, dispatch=RecordingDispatch(),
                         policy=Policy.model_validate({"thresholds": {"inactive_user_days": 7}}))
    with pytest.raises(DistributedConfigError, match="policy"):
        finalize.run_finalize(other, scan_id, "task-1")
    assert scan_row(store, scan_id).status == ScanStatus.RUNNING  # nothing concluded under the other policy
    assert jobs.get_job(store.engine, scan_id).stage == jobs.RUNNING  # type: ignore[union-attr]
    # The same policy on another worker is fine: the scan goes on.
    work.run_dlp_batch(_runtime(store, redis), scan_id, "admin-a-0")
    finalize.fail_job(first, scan_id, "scan aborted: test")
    assert not scan_lock_held(redis, integration.id)
