"""One scan, end to end: connectors -> inventory -> checks and DLP -> store.

The only module that knows every layer. It decides what a scan may conclude: a source that was
not read completely resolves nothing, and the conversations high-water mark only moves when the
conversations (and their files) were read completely.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from openai_casb.alerts.db_log import SqlDeliveryLog
from openai_casb.alerts.notify import notify_webhooks
from openai_casb.checks.evaluate import Evaluation, evaluate_file_scans, evaluate_inventory
from openai_casb.checks.registry import CheckRegistry, default_registry
from openai_casb.config import Settings
from openai_casb.crawl import ConversationsSource, CrawlProgress, crawl
from openai_casb.detections import Detection
from openai_casb.dlp.engine import DlpEngine
from openai_casb.dlp.extract.limits import ExtractionLimits
from openai_casb.dlp.scanner import FileScanner
from openai_casb.inventory.collect import LastSeen
from openai_casb.inventory.model import FileRef, Inventory, Source, SourceReport
from openai_casb.policy import Policy
from openai_casb.redaction import redact_key
from openai_casb.scanning.fetch import Downloader
from openai_casb.scanning.file_cache import FileVerdicts
from openai_casb.scanning.pipeline import SOURCE_OF_KIND, DlpOutcome, DlpPipeline, FileProgress
from openai_casb.store import MuteKey, MuteRule, ScanStatus, ScanSummary, Store
from openai_casb.store.records import Integration

log = logging.getLogger(__name__)

DLP_SOURCES = tuple(SOURCE_OF_KIND.values())


class ScanProgress(CrawlProgress, FileProgress, Protocol):
    """What `openai-casb scan` displays: pages and objects per source, then files."""


@dataclass(frozen=True, slots=True)
class ScanRequest:
    settings: Settings
    policy: Policy
    full: bool = False  # ignore the conversations high-water mark: read everything again
    conversations_source: ConversationsSource = "auto"
    dlp_workers: int = 1
    downloaders: int = 4
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class ScanResult:
    integration: Integration
    summary: ScanSummary
    sources: dict[Source, SourceReport]
    dlp: DlpOutcome
    requests: int
    detections: int
    evaluated_type_ids: frozenset[str]
    complete_type_ids: frozenset[str]
    not_evaluated_type_ids: frozenset[str] = field(default_factory=frozenset)


class StoreVerdictCache:
    """The DLP content-hash cache kept in the store, so a re-scan never re-reads a file it knows."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, key: str) -> dict[str, object] | None:
        return self._store.dlp_cache_get(key)

    def put(self, key: str, verdict: dict[str, object]) -> None:
        self._store.dlp_cache_put(key, verdict)


def integration_name(settings: Settings) -> str:
    parts = [p for p in (settings.org_id, settings.workspace_id and f"workspace {settings.workspace_id}") if p]
    return " / ".join(parts) or f"organization of key {redact_key(settings.admin_key.get_secret_value())}"


def scan_status(sources: dict[Source, SourceReport]) -> ScanStatus:
    read = [r for r in sources.values() if r.state != "skipped"]
    if read and all(r.complete for r in read):
        return ScanStatus.COMPLETE
    if not any(r.complete for r in read):
        return ScanStatus.FAILED
    return ScanStatus.PARTIAL


def activity_to_store(activity: LastSeen) -> dict[str, datetime]:
    stored = {f"id:{user_id}": when for user_id, when in activity.by_id.items()}
    stored.update({f"email:{email}": when for email, when in activity.by_email.items()})
    return {key: datetime.fromtimestamp(when, UTC) for key, when in stored.items()}


def activity_from_store(stored: dict[str, datetime]) -> LastSeen:
    activity = LastSeen()
    for key, when in stored.items():
        kind, _, value = key.partition(":")
        activity.add(value if kind == "id" else None, value if kind == "email" else None, when.timestamp())
    return activity


def mute_rules_for(policy: Policy, detections: list[Detection], now: datetime) -> dict[MuteKey, MuteRule | None]:
    rules: dict[MuteKey, MuteRule | None] = {}
    for detection in detections:
        rule = policy.mute_rule_for(detection, now)
        if rule is not None:
            rules[(detection.finding_type_id, str(detection.asset.kind), detection.asset.id)] = MuteRule(
                reason=rule.reason, expires_at=rule.expires_at
            )
    return rules


def summarise_errors(sources: dict[Source, SourceReport], dlp: DlpOutcome) -> list[str]:
    errors = [f"{s.value}: {r.state}: {r.reason}" for s, r in sources.items() if r.state in ("failed", "partial")]
    if dlp.not_scanned_reasons:
        tally = ", ".join(f"{reason} ({n})" for reason, n in dlp.not_scanned_reasons.most_common(8))
        errors.append(f"files not scanned: {tally}")
    return errors


async def run_scan(
    store: Store,
    request: ScanRequest,
    *,
    now: datetime | None = None,
    progress: ScanProgress | None = None,
    registry: CheckRegistry | None = None,
    on_begin: Callable[[int], None] | None = None,
) -> ScanResult:
    """Scan one integration into the store. API failures never raise: they make sources incomplete."""
    settings = request.settings
    now = now or datetime.now(UTC)
    registry = registry or default_registry()
    integration = store.ensure_integration(
        settings.org_id, settings.workspace_id, request.display_name or integration_name(settings)
    )
    store.sync_finding_types(registry.infos())
    scan_id = store.begin_scan(integration.id, now)
    if on_begin is not None:
        on_begin(scan_id)
    try:
        return await _scan(store, request, integration, scan_id, now, progress, registry)
    except BaseException as exc:
        # A crash (not an API failure: those are source states) still leaves an honest record.
        store.fail_scan(scan_id, f"scan aborted: {type(exc).__name__}: {exc}"[:500])
        raise


async def _scan(
    store: Store,
    request: ScanRequest,
    integration: Integration,
    scan_id: int,
    now: datetime,
    progress: ScanProgress | None,
    registry: CheckRegistry,
) -> ScanResult:
    settings, policy = request.settings, request.policy
    since = None if request.full else store.last_high_water_mark(integration.id)
    baseline = activity_from_store(store.user_activity(integration.id)) if since is not None else None
    engine = DlpEngine.from_settings(policy.dlp)
    dlp_enabled = bool(engine.enabled_profiles)

    async with AsyncExitStack() as stack:
        pipeline: DlpPipeline | None = None
        if dlp_enabled and settings.has_workspace:
            limits = ExtractionLimits.from_mapping(policy.dlp.limits)
            scanner = stack.enter_context(FileScanner(engine, limits, StoreVerdictCache(store), request.dlp_workers))
            downloader = await stack.enter_async_context(Downloader(settings, max_bytes=limits.max_file_bytes))
            verdicts = FileVerdicts(store, engine.profile_set_digest)
            pipeline = await stack.enter_async_context(
                DlpPipeline(scanner, downloader.fetch, downloaders=request.downloaders, progress=progress,
                            known=verdicts.known, remember=verdicts.remember)
            )
        on_file = pipeline.submit if pipeline is not None else None
        result = await crawl(
            settings,
            now=now,
            conversations_since=since,
            progress=progress,
            on_file=on_file,
            conversations_source=request.conversations_source,
            conversation_activity_baseline=baseline,
        )
        if pipeline is not None:
            for file in knowledge_files(result.inventory):
                await pipeline.submit(file)
    dlp = pipeline.outcome if pipeline is not None else DlpOutcome()
    inventory = result.inventory
    set_dlp_sources(inventory, dlp, dlp_enabled, incremental=since is not None)

    evaluation: Evaluation = evaluate_inventory(registry, inventory, policy).merged(
        evaluate_file_scans(registry, inventory, dlp.matched, policy)
    )
    conversations_done = inventory.complete([Source.CONVERSATIONS]) and (
        not dlp_enabled or dlp.failed[Source.CONVERSATION_FILES] == 0
    )
    summary = store.finish_scan(
        scan_id,
        detections=evaluation.detections,
        mute_rules=mute_rules_for(policy, evaluation.detections, now),
        evaluated_type_ids=evaluation.evaluated_type_ids,
        complete_type_ids=evaluation.complete_type_ids,
        source_reports=list(inventory.sources.values()),
        status=scan_status(inventory.sources),
        errors=summarise_errors(inventory.sources, dlp),
        high_water_mark=result.conversations_high_water_mark if conversations_done else None,
        user_activity=activity_to_store(result.conversation_activity) if conversations_done else None,
    )
    if policy.webhooks:
        await asyncio.to_thread(notify_after_scan, store, policy, integration.id, scan_id)
    all_types = frozenset(info.id for info in registry.infos())
    return ScanResult(
        integration=integration,
        summary=summary,
        sources=dict(inventory.sources),
        dlp=dlp,
        requests=result.requests,
        detections=len(evaluation.detections),
        evaluated_type_ids=evaluation.evaluated_type_ids,
        complete_type_ids=evaluation.complete_type_ids,
        not_evaluated_type_ids=all_types - evaluation.evaluated_type_ids,
    )


def notify_after_scan(store: Store, policy: Policy, integration_id: int, scan_id: int) -> None:
    """Send this scan's lifecycle changes to the policy's webhooks; a delivery failure never fails the scan."""
    delivery_log = SqlDeliveryLog(store.engine)  # its table comes with the store's migrations
    for result in notify_webhooks(
        store, policy.webhooks, delivery_log, since_scan_id=scan_id - 1, integration_id=integration_id
    ):
        if result.status != "delivered":
            log.warning("webhook %s: event %s not delivered: %s", result.destination, result.event_id, result.error)


def knowledge_files(inventory: Inventory) -> list[FileRef]:
    """GPT and ChatGPT project files come with their configurations, after the crawl."""
    files = [f for gpt in inventory.gpts for f in gpt.files]
    files += [f for project in inventory.chatgpt_projects for f in project.files]
    return files


def set_dlp_sources(inventory: Inventory, dlp: DlpOutcome, enabled: bool, incremental: bool) -> None:
    for source in DLP_SOURCES:
        crawled = inventory.sources.get(source)
        if not enabled:
            inventory.sources[source] = SourceReport(source, "skipped", "no DLP profile is enabled")
        else:
            inventory.sources[source] = dlp.report(source, crawled, incremental)
