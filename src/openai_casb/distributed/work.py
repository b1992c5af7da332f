"""What the Celery tasks do, without Celery: trigger, crawl one source group, scan one DLP batch, advance.

Every step is idempotent. A part's result is inserted once, keyed by (scan id, part id); a step
that finds its result already stored only advances the scan. A crawl hands its files off in DLP
batches as it lists them, under keys of its own attempt; the part it stores last names the batches
of that attempt, the only ones counted. Advancing dispatches the finalizer once every crawl part and
every counted batch is stored (duplicates are harmless: it is claimed exactly once, finalize.py).
See docs/distributed.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Protocol

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import Engine

from openai_casb.checks.registry import default_registry
from openai_casb.config import Settings
from openai_casb.crawl import ALL_GROUPS, SourceGroup, crawl
from openai_casb.distributed import jobs, schedule
from openai_casb.distributed.codec import (
    CrawlPart,
    Listing,
    batch_key,
    dump_crawl_part,
    dump_files,
    dump_listing,
    dump_outcome,
    load_files,
    load_listing,
)
from openai_casb.distributed.locks import ScanAlreadyRunningError, acquire_scan_lock, heartbeat, release_scan_lock
from openai_casb.distributed.ratelimit import shared_limiter
from openai_casb.distributed.settings import DistributedConfigError, DistributedSettings, settings_for
from openai_casb.dlp.engine import DlpEngine
from openai_casb.dlp.extract.limits import ExtractionLimits
from openai_casb.dlp.scanner import FileScanner
from openai_casb.env_files import with_dlp_salt_file
from openai_casb.inventory.model import FileRef
from openai_casb.policy import Policy
from openai_casb.scanning.fetch import Downloader
from openai_casb.scanning.file_cache import FileVerdicts
from openai_casb.scanning.pipeline import DlpOutcome, DlpPipeline
from openai_casb.scanning.run import StoreVerdictCache, activity_from_store, knowledge_files
from openai_casb.store import ScanRunningError, Store

log = logging.getLogger(__name__)

GROUPS: tuple[SourceGroup, ...] = ("admin", "compliance")


class Dispatch(Protocol):
    """Enqueues the next tasks (Celery in production, a plain queue in unit tests)."""

    def crawl_part(self, scan_id: int, group: str) -> None: ...

    def dlp_batch(self, scan_id: int, batch: str) -> None: ...

    def finalize(self, scan_id: int) -> None: ...


@dataclass(slots=True)
class Runtime:
    store: Store
    redis: Redis
    config: DistributedSettings
    policy: Policy
    dispatch: Dispatch


@lru_cache(maxsize=4)
def _engine(policy_json: str) -> DlpEngine:
    """Built once per worker process and policy (compiling the patterns is the slow part)."""
    return DlpEngine.from_settings(with_dlp_salt_file(Policy.model_validate_json(policy_json).dlp))


def dlp_engine(policy: Policy) -> DlpEngine:
    return _engine(policy.model_dump_json())


def crawl_part_id(group: str) -> str:
    return f"crawl:{group}"


def listing_part_id(group: str) -> str:
    return f"listed:{group}"


def files_part_id(batch: str) -> str:
    return f"files:{batch}"


def dlp_part_id(batch: str) -> str:
    return f"dlp:{batch}"


def trigger_scan(rt: Runtime, integration_id: int, *, full: bool = False, now: datetime | None = None) -> int:
    """Start a scan of one integration on the workers and return its scan id at once.

    Raises ScanAlreadyRunningError when a scan of it is running: on any worker (the Redis lock), or
    anywhere else, e.g. `openai-casb scan` (the store's check: a running scan with a fresh heartbeat).
    """
    now = now or datetime.now(UTC)
    integration = rt.store.get_integration(integration_id)
    token = acquire_scan_lock(rt.redis, integration_id, rt.config.lock_ttl_seconds)
    try:
        rt.store.sync_finding_types(default_registry().infos())
        try:
            scan_id = rt.store.begin_scan(integration_id, now)
        except ScanRunningError as exc:
            raise ScanAlreadyRunningError(str(exc)) from None
        parts = GROUPS if integration.workspace_id else ("admin",)
        jobs.create_job(rt.store.engine, scan_id, integration_id, token, parts, full=full, now=now)
    except BaseException:
        release_scan_lock(rt.redis, integration_id, token)
        raise
    schedule.mark_started(rt.store.engine, integration_id, now)
    try:
        for group in parts:
            rt.dispatch.crawl_part(scan_id, group)
    except BaseException as exc:
        _abandon(rt, integration_id, scan_id, token, f"its tasks could not be queued ({type(exc).__name__})")
        raise
    return scan_id


def _abandon(rt: Runtime, integration_id: int, scan_id: int, token: str, reason: str) -> None:
    """The broker refused a task: no worker will run this scan. Fail it and free the integration now,
    instead of leaving it running until the lock expires; a task already queued finds the job done."""
    rt.store.fail_scan(scan_id, reason)
    jobs.set_stage(rt.store.engine, scan_id, jobs.DONE)
    try:
        release_scan_lock(rt.redis, integration_id, token)
    except RedisError:  # Redis down too: the lock expires on its own
        log.warning("the lock of integration %s could not be released; it expires on its own", integration_id)


POLICY_PART = "policy"


def pin_policy(rt: Runtime, scan_id: int) -> None:
    """One policy per scan: the first task of a scan records its worker's policy (a digest), and a task
    on a worker with another policy fails the scan instead of mixing them (files collected under one
    policy, scanned or concluded under another, would resolve findings the other policy still reports).
    Raises DistributedConfigError, which fails the scan at once with this reason."""
    digest = hashlib.sha256(rt.policy.model_dump_json().encode()).hexdigest()
    jobs.put_parts(rt.store.engine, scan_id, {POLICY_PART: digest})
    pinned = jobs.get_part(rt.store.engine, scan_id, POLICY_PART)
    if pinned is not None and pinned != digest:
        raise DistributedConfigError(
            "this worker's policy (OPENAI_CASB_POLICY) differs from the one the scan's first task used on "
            "another worker: give every worker the same policy file"
        )


def task_heartbeat(rt: Runtime, job: jobs.ScanJob) -> AbstractContextManager[None]:
    """While a task runs: the integration's Redis lock and the scan's heartbeat in the store, renewed together."""
    return heartbeat(rt.redis, job.integration_id, job.lock_token, rt.config.lock_ttl_seconds,
                     also=lambda: rt.store.touch_scan(job.scan_id))


def _job_or_none(rt: Runtime, scan_id: int) -> jobs.ScanJob | None:
    job = jobs.get_job(rt.store.engine, scan_id)
    if job is None:
        log.warning("scan %s has no distributed job; task dropped", scan_id)
    return job


class BatchHandOff:
    """The files one crawl attempt lists, stored and dispatched as DLP batches of N as they arrive,
    so a crawl holds at most N file references whatever the number of files.

    A batch is stored before its task is sent, so the task always finds it. The attempt's key is
    fresh for every run of the crawl task: batches of a run that dies before its crawl part is
    stored are orphans, scanned perhaps but never counted (the stored `Listing` names the counted
    ones), and a run that finds its crawl part stored hands nothing off again.
    """

    def __init__(self, rt: Runtime, scan_id: int, group: str) -> None:
        self._rt, self._scan_id, self._group = rt, scan_id, group
        self._attempt = secrets.token_hex(4)
        self._pending: list[FileRef] = []
        self._sent = 0

    async def add(self, ref: FileRef) -> None:
        self._pending.append(ref)
        if len(self._pending) >= self._rt.config.dlp_batch_files:
            self.flush()

    def flush(self) -> None:
        """Store and dispatch what is pending (the crawl's tail at its end)."""
        if not self._pending:
            return
        key = batch_key(self._group, self._attempt, self._sent)
        stored = jobs.put_parts(self._rt.store.engine, self._scan_id, {files_part_id(key): dump_files(self._pending)})
        self._pending = []
        self._sent += 1
        if stored:  # else the scan concluded meanwhile: nothing left to scan for it
            self._rt.dispatch.dlp_batch(self._scan_id, key)

    def listing(self) -> Listing:
        return Listing(group=self._group, attempt=self._attempt, batches=self._sent)


def run_crawl_part(rt: Runtime, scan_id: int, group: str) -> None:
    job = _job_or_none(rt, scan_id)
    if job is None or group not in job.crawl_parts or job.stage != jobs.RUNNING:
        return
    pin_policy(rt, scan_id)
    if jobs.get_part(rt.store.engine, scan_id, crawl_part_id(group)) is None:
        with task_heartbeat(rt, job):
            integration = rt.store.get_integration(job.integration_id)
            settings = settings_for(rt.store, integration, rt.config)
            # Alone, the admin part reads everything (a workspace-less integration reports its sources skipped).
            chosen: SourceGroup = "admin" if group == "admin" else "compliance"
            groups = ALL_GROUPS if len(job.crawl_parts) == 1 else frozenset({chosen})
            hand_off = BatchHandOff(rt, scan_id, group)
            part = asyncio.run(_crawl(rt, job, settings, groups, hand_off))
            hand_off.flush()
            # Together, last: the part and the batches it counts. A concurrent run of the same crawl
            # that stored first wins both; this run's batches are then orphans like a killed run's.
            jobs.put_parts(rt.store.engine, scan_id, {
                crawl_part_id(group): dump_crawl_part(part),
                listing_part_id(group): dump_listing(hand_off.listing()),
            })
    advance(rt, scan_id)


async def _crawl(
    rt: Runtime, job: jobs.ScanJob, settings: Settings, groups: frozenset[SourceGroup], hand_off: BatchHandOff
) -> CrawlPart:
    since = baseline = None
    if "compliance" in groups and not job.full:
        since = rt.store.last_high_water_mark(job.integration_id)
        if since is not None:
            baseline = activity_from_store(rt.store.user_activity(job.integration_id))
    collect_files = "compliance" in groups and bool(dlp_engine(rt.policy).enabled_profiles) and settings.has_workspace
    limiter = shared_limiter(rt.config.redis_url, settings)
    try:
        result = await crawl(
            settings, now=job.now, conversations_since=since, on_file=hand_off.add if collect_files else None,
            conversation_activity_baseline=baseline, groups=groups, limiter=limiter,
            inactive_user_days=rt.policy.thresholds.inactive_user_days,
        )
    finally:
        await limiter.aclose()
    if collect_files:
        for ref in knowledge_files(result.inventory):
            await hand_off.add(ref)
    return CrawlPart(
        inventory=result.inventory,
        org_users=result.org_users,
        workspace_users=result.workspace_users,
        logins=result.login_activity,
        conversations=result.conversation_activity,
        high_water_mark=result.conversations_high_water_mark,
        requests=result.requests,
    )


def run_dlp_batch(rt: Runtime, scan_id: int, batch: str) -> None:
    job = _job_or_none(rt, scan_id)
    if job is None or job.stage != jobs.RUNNING:
        return
    engine = rt.store.engine
    pin_policy(rt, scan_id)
    if jobs.get_part(engine, scan_id, dlp_part_id(batch)) is None:
        listed = jobs.get_part(engine, scan_id, files_part_id(batch))
        if listed is None:
            log.warning("scan %s has no DLP batch %s; task dropped", scan_id, batch)
            return
        with task_heartbeat(rt, job):
            settings = settings_for(rt.store, rt.store.get_integration(job.integration_id), rt.config)
            outcome = asyncio.run(_scan_files(rt, settings, job.integration_id, load_files(listed)))
            try:
                jobs.put_parts(engine, scan_id, {dlp_part_id(batch): dump_outcome(outcome)})
            finally:
                outcome.close()
    advance(rt, scan_id)


async def _scan_files(rt: Runtime, settings: Settings, integration_id: int, files: list[FileRef]) -> DlpOutcome:
    engine = dlp_engine(rt.policy)
    limits = ExtractionLimits.from_mapping(rt.policy.dlp.limits)
    limiter = shared_limiter(rt.config.redis_url, settings)
    try:
        with FileScanner(engine, limits, StoreVerdictCache(rt.store), 1) as scanner:
            async with Downloader(settings, max_bytes=limits.max_file_bytes, limiter=limiter) as downloader:
                verdicts = FileVerdicts(rt.store, integration_id, engine.profile_set_digest)
                async with DlpPipeline(scanner, downloader.fetch, known=verdicts.known,
                                       remember=verdicts.remember) as pipeline:
                    for file in files:
                        await pipeline.submit(file)
                return pipeline.outcome
    finally:
        await limiter.aclose()


def counted_batches(engine: Engine, job: jobs.ScanJob) -> list[str] | None:
    """The keys of the DLP batches the scan's outcome is made of; None until every crawl part is stored."""
    listings = [load_listing(text) for text in jobs.parts_with_prefix(engine, job.scan_id, "listed:").values()]
    if len(listings) < len(job.crawl_parts):
        return None
    return [key for listing in listings for key in listing.batch_keys()]


def advance(rt: Runtime, scan_id: int) -> None:
    """Dispatch the finalizer once everything it merges is stored. Safe to call any number of times
    from any worker: each task calls it after storing its own part, so the last one sees them all."""
    engine = rt.store.engine
    job = jobs.get_job(engine, scan_id)
    if job is None or job.stage != jobs.RUNNING:
        return
    batches = counted_batches(engine, job)
    if batches is None:
        return
    done = jobs.part_ids_with_prefix(engine, scan_id, "dlp:")
    if all(dlp_part_id(key) in done for key in batches):
        rt.dispatch.finalize(scan_id)
