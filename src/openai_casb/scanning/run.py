"""One scan, end to end: connectors -> inventory -> checks and DLP -> store.

The only module that knows every layer. It decides what a scan may conclude: a source that was
not read completely resolves nothing, and the conversations high-water mark only moves when the
conversations (and their files) were read completely.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import AsyncExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from openai_casb.alerts.db_log import SqlDeliveryLog
from openai_casb.alerts.notify import notify_webhooks
from openai_casb.checks.base import Check
from openai_casb.checks.evaluate import _checked, evaluate_inventory, is_complete, is_evaluated
from openai_casb.checks.registry import CheckRegistry, default_registry
from openai_casb.config import Settings
from openai_casb.crawl import ConversationsSource, CrawlProgress, crawl
from openai_casb.detections import Detection
from openai_casb.dlp.engine import DlpEngine
from openai_casb.dlp.extract.limits import ExtractionLimits
from openai_casb.dlp.scanner import FileScanner
from openai_casb.env_files import with_dlp_salt_file
from openai_casb.inventory.collect import LastSeen
from openai_casb.inventory.model import FileRef, Inventory, Source, SourceReport
from openai_casb.policy import Policy
from openai_casb.redaction import redact_key
from openai_casb.repeating import repeating
from openai_casb.scanning.fetch import Downloader
from openai_casb.scanning.file_cache import FileVerdicts
from openai_casb.scanning.matched import MatchedFiles
from openai_casb.scanning.names import Redact, inventory_named
from openai_casb.scanning.pipeline import SOURCE_OF_KIND, DlpOutcome, DlpPipeline, FileProgress
from openai_casb.store import MuteKey, MuteRule, ScanNotRunningError, ScanStatus, ScanSummary, Store, StoreError
from openai_casb.store.records import Integration

log = logging.getLogger(__name__)

DLP_SOURCES = tuple(SOURCE_OF_KIND.values())
# How often a running scan renews its heartbeat in the store (well inside store.SCAN_STALE_AFTER).
HEARTBEAT_INTERVAL_SECONDS = 30.0


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


class DlpSetupError(Exception):
    """The policy's DLP settings cannot be used (an EDM file unreadable, a pattern the engine refuses).
    The message is fit for a user and holds no DLP value."""


@dataclass(frozen=True, slots=True)
class DlpSetup:
    """What a scan's DLP runs with. Building it reads and hashes the EDM files and compiles the
    patterns: slow, and the step that fails when the settings are unusable."""

    engine: DlpEngine
    limits: ExtractionLimits

    @classmethod
    def from_policy(cls, policy: Policy) -> DlpSetup:
        try:
            engine = DlpEngine.from_settings(with_dlp_salt_file(policy.dlp))
            return cls(engine, ExtractionLimits.from_mapping(policy.dlp.limits))
        except ValueError as exc:  # written for the user (DlpEngine.from_settings)
            raise DlpSetupError(f"DLP settings of the policy: {exc}") from None
        except Exception as exc:  # a regex backend's own error, which may quote a pattern: its type only
            raise DlpSetupError(
                f"DLP settings of the policy: the DLP engine could not be built ({type(exc).__name__})"
            ) from None


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


def mute_rules_for(policy: Policy, detections: Iterable[Detection], now: datetime) -> dict[MuteKey, MuteRule | None]:
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
    if dlp.partial:
        errors.append(f"files scanned in part (skipped entries or pages, text cut at the limit): {dlp.partial.total()}")
    return errors


@contextmanager
def scan_heartbeat(store: Store, scan_id: int, interval: float = HEARTBEAT_INTERVAL_SECONDS) -> Iterator[None]:
    """Renew the scan's heartbeat every `interval` seconds while the body runs.

    In a daemon thread, so a long synchronous step on the event loop (finish_scan) does not stop it;
    a process that dies stops it, and the next scan of the integration takes the scan for dead.
    """
    def beat() -> bool:
        try:
            if not store.touch_scan(scan_id):
                log.warning("scan %s is no longer running; its heartbeat stops", scan_id)
                return False
        except StoreError as exc:  # the database busy or down for a moment: the next beat retries
            log.warning("scan %s: heartbeat not recorded: %s", scan_id, exc)
        return True

    with repeating(interval, beat, name=f"scan-heartbeat-{scan_id}"):
        yield


async def run_scan(
    store: Store,
    request: ScanRequest,
    *,
    now: datetime | None = None,
    progress: ScanProgress | None = None,
    registry: CheckRegistry | None = None,
    on_begin: Callable[[int], None] | None = None,
    dlp: DlpSetup | None = None,
) -> ScanResult:
    """Scan one integration into the store. API failures never raise: they make sources incomplete.

    `dlp`, built by the caller with `DlpSetup.from_policy`, lets it refuse unusable DLP settings
    before anything is recorded (the CLI). Without it the setup is built once the scan is begun, so
    a caller that returned the scan id at once (the web) finds the DlpSetupError recorded on the scan.
    """
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
        with scan_heartbeat(store, scan_id, HEARTBEAT_INTERVAL_SECONDS):
            setup = dlp or DlpSetup.from_policy(request.policy)
            return await _scan(store, request, integration, scan_id, now, progress, registry, setup)
    except BaseException as exc:
        # A crash (not an API failure: those are source states) still leaves an honest record; a scan
        # another one took for dead (interrupted) keeps that record, and the caller gets why.
        with suppress(ScanNotRunningError):
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
    setup: DlpSetup,
) -> ScanResult:
    settings, policy = request.settings, request.policy
    since = None if request.full else store.last_high_water_mark(integration.id)
    baseline = activity_from_store(store.user_activity(integration.id)) if since is not None else None
    engine, limits = setup.engine, setup.limits
    dlp_enabled = bool(engine.enabled_profiles)

    pipeline: DlpPipeline | None = None
    try:
        async with AsyncExitStack() as stack:
            if dlp_enabled and settings.has_workspace:
                scanner = stack.enter_context(
                    FileScanner(engine, limits, StoreVerdictCache(store), request.dlp_workers)
                )
                downloader = await stack.enter_async_context(Downloader(settings, max_bytes=limits.max_file_bytes))
                verdicts = FileVerdicts(store, integration.id, engine.profile_set_digest)
                pipeline = await stack.enter_async_context(
                    DlpPipeline(scanner, downloader.fetch, downloaders=request.downloaders, progress=progress,
                                known=verdicts.known, remember=verdicts.remember)
                )
            result = await crawl(
                settings,
                now=now,
                conversations_since=since,
                progress=progress,
                on_file=pipeline.submit if pipeline is not None else None,
                conversations_source=request.conversations_source,
                conversation_activity_baseline=baseline,
                keep_user_records=False,  # persons are joined; nothing merges this crawl with another
                inactive_user_days=policy.thresholds.inactive_user_days,
            )
            if pipeline is not None:
                for file in knowledge_files(result.inventory):
                    await pipeline.submit(file)
        dlp = pipeline.outcome if pipeline is not None else DlpOutcome()
        inventory = result.inventory
        conclusion, summary = store_conclusion(
            store, scan_id, registry, inventory, dlp, dlp_enabled, policy, now, incremental=since is not None,
            high_water_mark=result.conversations_high_water_mark, activity=result.conversation_activity,
            redact_names=engine.redact,
        )
    finally:
        if pipeline is not None:
            pipeline.outcome.close()  # the spooled verdicts are in the store now (or the scan failed)
    if policy.webhooks:
        await asyncio.to_thread(notify_after_scan, store, policy, integration.id, scan_id)
    all_types = frozenset(info.id for info in registry.infos())
    return ScanResult(
        integration=integration,
        summary=summary,
        sources=dict(inventory.sources),
        dlp=dlp,
        requests=result.requests,
        detections=conclusion.count,
        evaluated_type_ids=conclusion.evaluated_type_ids,
        complete_type_ids=conclusion.complete_type_ids,
        not_evaluated_type_ids=all_types - conclusion.evaluated_type_ids,
    )


@dataclass(frozen=True, slots=True)
class Conclusion:
    """What the checks concluded from a scan, ready for `store.finish_scan`.

    Inventory detections are held (they are bounded by the inventory the checks read anyway); DLP
    detections are made again from the spooled verdicts each time `detections()` is iterated, so
    that neither the verdicts nor their evidence are ever all in memory.
    """

    inventory_detections: list[Detection]
    file_checks: tuple[Check, ...]
    matched: MatchedFiles
    policy: Policy
    evaluated_type_ids: frozenset[str]
    complete_type_ids: frozenset[str]
    mute_rules: dict[MuteKey, MuteRule | None]
    count: int

    def detections(self) -> Iterator[Detection]:
        yield from self.inventory_detections
        yield from file_detections(self.file_checks, self.matched, self.policy)


def file_detections(checks: Iterable[Check], matched: MatchedFiles, policy: Policy) -> Iterator[Detection]:
    """The DLP checks' detections, one file at a time.

    A DLP rule judges each file on its own (one instance per file id, findings.md), so running it
    over one file's verdicts at a time gives exactly what it gives over all of them at once.
    """
    checks = tuple(checks)
    for group in matched.by_file():
        for check in checks:
            assert check.file_rule is not None
            # The same contract as every rule's output (checks.evaluate), checked file by file.
            yield from _checked(check, check.file_rule(group, policy))


def conclude(
    registry: CheckRegistry, inventory: Inventory, matched: MatchedFiles, policy: Policy, now: datetime
) -> Conclusion:
    """Run the inventory checks, and the DLP checks over the spooled verdicts once (for mute rules)."""
    inventory_evaluation = evaluate_inventory(registry, inventory, policy)
    file_checks = tuple(c for c in registry.file_checks if c.file_rule is not None and is_evaluated(c, inventory))
    complete = {c.id for c in file_checks if is_complete(c, inventory)}
    rules = mute_rules_for(policy, inventory_evaluation.detections, now)
    counted = 0
    for detection in file_detections(file_checks, matched, policy):
        counted += 1
        rules.update(mute_rules_for(policy, [detection], now))
    return Conclusion(
        inventory_detections=inventory_evaluation.detections,
        file_checks=file_checks,
        matched=matched,
        policy=policy,
        evaluated_type_ids=inventory_evaluation.evaluated_type_ids | {c.id for c in file_checks},
        complete_type_ids=inventory_evaluation.complete_type_ids | frozenset(complete),
        mute_rules=rules,
        count=len(inventory_evaluation.detections) + counted,
    )


def store_conclusion(
    store: Store, scan_id: int, registry: CheckRegistry, inventory: Inventory, dlp: DlpOutcome, dlp_enabled: bool,
    policy: Policy, now: datetime, *, incremental: bool, high_water_mark: float | None, activity: LastSeen,
    redact_names: Redact,
) -> tuple[Conclusion, ScanSummary]:
    """The checks over a read scan, then the store's one transaction: the end of a single-process scan
    and of a distributed one alike. The high-water mark and the conversation activity move only when
    conversations and their files were read completely. `redact_names` (the scan's
    DlpEngine.redact) masks DLP values in the names the inventory checks show (scanning.names);
    the matched files' names were masked when their verdicts were recorded."""
    set_dlp_sources(inventory, dlp, dlp_enabled, incremental=incremental)
    conclusion = conclude(registry, inventory_named(inventory, redact_names), dlp.matched, policy, now)
    conversations_done = inventory.complete([Source.CONVERSATIONS]) and (
        not dlp_enabled or dlp.failed[Source.CONVERSATION_FILES] == 0
    )
    summary = store.finish_scan(
        scan_id,
        detections=conclusion.detections(),
        mute_rules=conclusion.mute_rules,
        evaluated_type_ids=conclusion.evaluated_type_ids,
        complete_type_ids=conclusion.complete_type_ids,
        source_reports=list(inventory.sources.values()),
        status=scan_status(inventory.sources),
        errors=summarise_errors(inventory.sources, dlp),
        high_water_mark=high_water_mark if conversations_done else None,
        user_activity=activity_to_store(activity) if conversations_done else None,
    )
    return conclusion, summary


def notify_after_scan(store: Store, policy: Policy, integration_id: int, scan_id: int) -> None:
    """Send the policy's webhooks this scan's lifecycle changes and every earlier event they have not
    received yet (of any integration: a failed delivery is retried at the next scan, whichever it is).
    Nothing here fails the scan: an error is logged in one line, without its message (it could hold a URL)."""
    try:
        delivery_log = SqlDeliveryLog(store.engine)  # its table comes with the store's migrations
        for result in notify_webhooks(store, policy.webhooks, delivery_log, since_scan_id=scan_id - 1):
            if result.status != "delivered":
                log.warning("webhook %s: event %s not delivered: %s", result.destination, result.event_id,
                            result.error)  # fmt: skip
    except Exception as exc:  # webhooks are a side channel of the scan
        log.warning("webhooks after scan %s (integration %s) not sent: %s", scan_id, integration_id,
                    type(exc).__name__)  # fmt: skip


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
