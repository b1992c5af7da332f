"""The last task of a distributed scan: merge the parts, evaluate the checks, `store.finish_scan` once.

It reuses scanning.run's pieces so that a distributed scan concludes exactly what a single-process
scan of the same data concludes.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.orm import Session

from openai_casb.checks.registry import default_registry
from openai_casb.crawl import ADMIN_SOURCES
from openai_casb.distributed import jobs
from openai_casb.distributed.codec import CrawlPart, load_crawl_part, load_outcome, merge_outcome
from openai_casb.distributed.locks import release_scan_lock
from openai_casb.distributed.work import (
    Runtime,
    counted_batches,
    dlp_engine,
    dlp_part_id,
    pin_policy,
    task_heartbeat,
)
from openai_casb.inventory import collect
from openai_casb.inventory.model import Inventory
from openai_casb.scanning.pipeline import DlpOutcome
from openai_casb.scanning.run import notify_after_scan, store_conclusion
from openai_casb.store import ScanStatus
from openai_casb.store.schema import ScanRow

log = logging.getLogger(__name__)


def merge_parts(parts: dict[str, CrawlPart], now_inventory: Inventory) -> CrawlPart:
    """One inventory from the admin and compliance crawls; persons are joined across both, as in one crawl."""
    admin, compliance = parts.get("admin"), parts.get("compliance")
    if compliance is None and admin is not None:
        return admin  # the admin part read everything (no workspace)
    inventory = now_inventory
    conversations = collect.LastSeen()
    merged = CrawlPart(inventory=inventory, conversations=conversations)
    for group, part in parts.items():
        owned = {s for s in part.inventory.sources if (s in ADMIN_SOURCES) == (group == "admin")}
        inventory.sources.update({s: part.inventory.sources[s] for s in owned})
        merged.org_users.extend(part.org_users)
        merged.workspace_users.extend(part.workspace_users)
        merged.logins.merge(part.logins)
        merged.requests += part.requests
    if admin is not None:
        inventory.admin_api_keys = admin.inventory.admin_api_keys
        inventory.project_api_keys = admin.inventory.project_api_keys
        inventory.invites = admin.inventory.invites
        inventory.logins_read_since = admin.inventory.logins_read_since
    if compliance is not None:
        inventory.gpts = compliance.inventory.gpts
        inventory.chatgpt_projects = compliance.inventory.chatgpt_projects
        conversations.merge(compliance.conversations)
        merged.high_water_mark = compliance.high_water_mark
    inventory.persons = collect.persons(merged.org_users, merged.workspace_users, merged.logins, conversations)
    return merged


def run_finalize(rt: Runtime, scan_id: int, claimant: str) -> None:
    """Conclude the scan once. `claimant` identifies the task (a redelivered task keeps it)."""
    engine = rt.store.engine
    job = jobs.get_job(engine, scan_id)
    if job is None or job.stage == jobs.DONE:
        return
    if _scan_status(rt, scan_id) != ScanStatus.RUNNING:
        _cleanup(rt, job)  # concluded before a crash that left the clean-up undone
        return
    pin_policy(rt, scan_id)
    if not jobs.claim_finalizing(engine, scan_id, claimant):
        return
    parts = {key.removeprefix("crawl:"): load_crawl_part(text)
             for key, text in jobs.parts_with_prefix(engine, scan_id, "crawl:").items()}
    integration = rt.store.get_integration(job.integration_id)
    merged = merge_parts(parts, Inventory(now=job.now, organization_id=integration.organization_id,
                                          workspace_id=integration.workspace_id))
    dlp = DlpOutcome()
    try:
        # Like every task of the scan: the lock and the scan's heartbeat are renewed while it
        # concludes, however long the store's transaction takes.
        with task_heartbeat(rt, job):
            # One batch at a time: its matched verdicts go to the spool, never all in memory. Only the
            # batches the stored crawl parts count (a killed crawl's orphans are left out).
            for batch in counted_batches(engine, job) or []:
                text = jobs.get_part(engine, scan_id, dlp_part_id(batch))
                if text is not None:
                    merge_outcome(dlp, load_outcome(text))
            _conclude(rt, job, scan_id, merged, dlp)
    finally:
        dlp.close()
    if rt.policy.webhooks:
        asyncio.run(asyncio.to_thread(notify_after_scan, rt.store, rt.policy, job.integration_id, scan_id))
    _cleanup(rt, job)


def _conclude(rt: Runtime, job: jobs.ScanJob, scan_id: int, merged: CrawlPart, dlp: DlpOutcome) -> None:
    inventory = merged.inventory
    dlp_setup = dlp_engine(rt.policy)
    incremental = not job.full and rt.store.last_high_water_mark(job.integration_id) is not None
    # The batches' matched verdicts were named by the workers' pipelines; the inventory's names here.
    store_conclusion(rt.store, scan_id, default_registry(), inventory, dlp, bool(dlp_setup.enabled_profiles),
                     rt.policy, job.now, incremental=incremental, high_water_mark=merged.high_water_mark,
                     activity=merged.conversations, redact_names=dlp_setup.redact)


def _scan_status(rt: Runtime, scan_id: int) -> str | None:
    with Session(rt.store.engine) as session:
        row = session.get(ScanRow, scan_id)
        return str(row.status) if row is not None else None


def _cleanup(rt: Runtime, job: jobs.ScanJob) -> None:
    # Done first: from then on put_parts stores nothing for the scan, so the parts dropped stay dropped.
    jobs.set_stage(rt.store.engine, job.scan_id, jobs.DONE)
    jobs.drop_parts(rt.store.engine, job.scan_id)
    release_scan_lock(rt.redis, job.integration_id, job.lock_token)


def close_ended_jobs(rt: Runtime) -> int:
    """Clean up after scans that ended without their finalizer: a scan taken for dead (its tasks lost
    with a broker restarted without persistence, or every worker stopped) is marked `interrupted` by
    the next scan of its integration, and its job would otherwise stay `running`, its parts stored for
    ever and its lock held until it expires. Returns how many jobs it closed."""
    ended = jobs.ended_jobs(rt.store.engine)
    for job in ended:
        _cleanup(rt, job)
    return len(ended)


def fail_job(rt: Runtime, scan_id: int, reason: str) -> None:
    """A task failed for good (not a lost worker): record it on the scan and free the integration."""
    job = jobs.get_job(rt.store.engine, scan_id)
    if job is None or job.stage == jobs.DONE:
        return
    if _scan_status(rt, scan_id) == ScanStatus.RUNNING:
        rt.store.fail_scan(scan_id, reason[:500])
    _cleanup(rt, job)
