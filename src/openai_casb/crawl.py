"""The inventory crawl: read every source once, page by page, into an `Inventory`.

Conversations are streamed: each page is folded into per-user activity and its files are handed to
`on_file`, then dropped, so memory does not grow with the number of conversations (the ids needed
to drop the repeats the API may send are kept on disk, `openai_casb.seen`). Users are kept only as
the compact records the person join reads (`collect.OrgUserRecord`, `collect.WorkspaceUserRecord`),
made as each page arrives: never the API objects with their unknown fields.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol, TypeVar

import httpx
from pydantic import ValidationError

from openai_casb.config import Settings
from openai_casb.connectors.errors import ApiError, ConnectorError
from openai_casb.connectors.http import Sleep
from openai_casb.connectors.models import admin as am
from openai_casb.connectors.models import compliance as cm
from openai_casb.connectors.models.base import WithEmbeddedLists, incomplete_lists
from openai_casb.connectors.ratelimit import RollingWindowLimiter
from openai_casb.connectors.readers import AdminReader, ComplianceReader
from openai_casb.connectors.session import Clients, open_clients
from openai_casb.inventory import collect
from openai_casb.inventory.model import FileRef, Inventory, Source, SourceReport, SourceState
from openai_casb.seen import SeenIds

log = logging.getLogger(__name__)

T = TypeVar("T")
ConversationsSource = Literal["auto", "conversations", "logs"]
# The two halves of a crawl, which distributed workers may read apart and merge.
SourceGroup = Literal["admin", "compliance"]
ALL_GROUPS: frozenset[SourceGroup] = frozenset({"admin", "compliance"})
ADMIN_SOURCES = (
    Source.ADMIN_USERS, Source.ADMIN_INVITES, Source.ADMIN_API_KEYS, Source.ADMIN_PROJECTS,
    Source.ADMIN_PROJECT_API_KEYS, Source.ADMIN_AUDIT_LOGS,
)
COMPLIANCE_SOURCES = (Source.WORKSPACE_USERS, Source.GPTS, Source.CHATGPT_PROJECTS, Source.CONVERSATIONS)
FileHandler = Callable[[FileRef], Awaitable[None]]
NO_WORKSPACE = "no workspace configured"
# Statuses with which a workspace says "the stateful /conversations route is not here".
_CONVERSATIONS_GONE = frozenset({404, 405, 410})


class CrawlProgress(Protocol):
    """What the scan's progress display implements. Counts are cumulative per source."""

    def update(self, source: Source, pages: int, objects: int) -> None: ...

    def finished(self, report: SourceReport) -> None: ...


@dataclass(slots=True)
class CrawlResult:
    inventory: Inventory
    # Max `last_active_at` (or log event time) seen; pass it as `conversations_since` next time.
    conversations_high_water_mark: float | None
    # Latest conversation activity per workspace user id and per lower-cased email, as read in this
    # crawl merged with the baseline given: the store keeps it for the next incremental crawl.
    conversation_activity: collect.LastSeen
    conversations_read_from: Literal["conversations", "logs"] | None = None
    requests: int = 0
    # What `inventory.persons` was built from, so that crawls of separate groups can be merged.
    org_users: list[collect.OrgUserRecord] = field(default_factory=list)
    workspace_users: list[collect.WorkspaceUserRecord] = field(default_factory=list)
    login_activity: collect.LastSeen = field(default_factory=collect.LastSeen)


def narrowed_reason(project_id: str | None) -> str:
    """Why a project-scoped read is partial: the other projects were not read, so nothing of theirs
    may be resolved (findings.md: only a complete read resolves)."""
    return f"narrowed to project {project_id} (OPENAI_PROJECT_ID): other projects were not read"


class _SourceFailed(Exception):
    def __init__(self, state: SourceState, reason: str) -> None:
        super().__init__(reason)
        self.state = state
        self.reason = reason


@dataclass(slots=True)
class _Counter:
    source: Source
    progress: CrawlProgress | None
    pages: int = 0
    objects: int = 0

    def page(self, objects: int) -> None:
        self.pages += 1
        self.objects += objects
        if self.progress is not None:
            self.progress.update(self.source, self.pages, self.objects)


@dataclass(slots=True)
class _Crawl:
    settings: Settings
    clients: Clients
    now: datetime
    progress: CrawlProgress | None
    on_file: FileHandler | None
    # How many days of audit-log login events to read (`audit_log_days`).
    audit_log_days: int
    reports: dict[Source, SourceReport] = field(default_factory=dict)
    org_users: list[collect.OrgUserRecord] = field(default_factory=list)
    workspace_users: list[collect.WorkspaceUserRecord] = field(default_factory=list)
    logins: collect.LastSeen = field(default_factory=collect.LastSeen)
    conversations: collect.LastSeen = field(default_factory=collect.LastSeen)
    high_water_mark: float | None = None
    conversations_read_from: Literal["conversations", "logs"] | None = None
    _seen_conversations: SeenIds = field(default_factory=SeenIds)
    _seen_files: SeenIds = field(default_factory=SeenIds)
    _seen_events: SeenIds = field(default_factory=SeenIds)

    def close(self) -> None:
        for seen in (self._seen_conversations, self._seen_files, self._seen_events):
            seen.close()

    def counter(self, source: Source) -> _Counter:
        return _Counter(source, self.progress)

    def report(self, source: Source, state: SourceState, counter: _Counter | None, reason: str | None = None) -> None:
        report = SourceReport(
            source=source,
            state=state,
            reason=reason,
            pages=counter.pages if counter else 0,
            objects=counter.objects if counter else 0,
        )
        self.reports[source] = report
        if self.progress is not None:
            self.progress.finished(report)
        if state != "complete":
            log.info("source %s %s: %s", source.value, state, reason)

    async def run(self, source: Source, body: Callable[[_Counter], Awaitable[None]]) -> None:
        """Run one source; any connector error marks it failed with a reason, never aborts the crawl."""
        counter = self.counter(source)
        try:
            await body(counter)
        except _SourceFailed as exc:
            self.report(source, exc.state, counter, exc.reason)
        except (ConnectorError, ValidationError, httpx.HTTPError) as exc:
            state: SourceState = "partial" if counter.pages else "failed"
            self.report(source, state, counter, _reason(exc))
        else:
            self.report(source, "complete", counter)

    async def collect_pages(self, pages: AsyncIterator[list[T]], counter: _Counter, into: list[T]) -> None:
        async for page in pages:
            into.extend(page)
            counter.page(len(page))

    async def hand_off(self, files: Sequence[FileRef]) -> None:
        for ref in files:
            if not self._seen_files.add(ref.file_id):
                continue
            if self.on_file is not None:
                await self.on_file(ref)

    def raise_mark(self, when: float | None) -> None:
        if when is not None and (self.high_water_mark is None or when > self.high_water_mark):
            self.high_water_mark = when


@dataclass(slots=True)
class _CutLists:
    """Objects of one source that embed a list holding only part of itself (`has_more` true on
    `messages`, a message's `files`, a config's `tools` or `files`). The Compliance API has no endpoint
    for the rest of those lists, so the source is read only in part: `check` marks it partial, and
    nothing it (or its files source) would resolve is resolved. (A `latest_config` cut short is read
    whole from `/gpts/{id}/configs` or `/projects/{id}/configs` before it is noted here.)"""

    kind: str
    count: int = 0
    first: str | None = None

    def note(self, object_id: str | None, model: WithEmbeddedLists) -> None:
        paths = incomplete_lists(model)
        if paths:
            self.count += 1
            if self.first is None:
                self.first = f"{self.kind} {object_id} {', '.join(paths[:3])}"

    def check(self) -> None:
        if self.count:
            raise _SourceFailed(
                "partial",
                f"{self.count} {self.kind}(s) embed a list with has_more true, whose rest the API does not serve"
                f" (first: {self.first})",
            )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return f"malformed response ({exc.error_count()} validation error(s))"
    if isinstance(exc, httpx.HTTPError):
        return f"HTTP error ({type(exc).__name__})"
    return str(exc)


async def _admin_sources(crawl: _Crawl, inventory: Inventory) -> None:
    admin = AdminReader(crawl.clients.admin, crawl.settings.page_size)
    projects: list[am.Project] = []
    projects_read = asyncio.Event()

    async def users(counter: _Counter) -> None:
        async for page in admin.users():
            crawl.org_users.extend(collect.org_user_record(user) for user in page)
            counter.page(len(page))

    async def invites(counter: _Counter) -> None:
        items: list[am.Invite] = []
        await crawl.collect_pages(admin.invites(), counter, items)
        inventory.invites = [collect.invite(i) for i in items]

    async def admin_keys(counter: _Counter) -> None:
        items: list[am.AdminApiKey] = []
        await crawl.collect_pages(admin.admin_api_keys(), counter, items)
        inventory.admin_api_keys = [collect.admin_api_key(k) for k in items]

    async def project_list(counter: _Counter) -> None:
        try:
            if crawl.settings.project_id is not None:
                try:
                    project = await admin.project(crawl.settings.project_id)
                except ApiError as exc:
                    if exc.not_found:
                        raise _SourceFailed("failed", f"project {crawl.settings.project_id} not found") from None
                    raise
                projects.append(project)
                counter.page(1)
                raise _SourceFailed("partial", narrowed_reason(crawl.settings.project_id))
            else:
                await crawl.collect_pages(admin.projects(), counter, projects)
        finally:
            projects_read.set()

    async def project_keys(counter: _Counter) -> None:
        await projects_read.wait()
        listed = crawl.reports.get(Source.ADMIN_PROJECTS)
        narrowed = crawl.settings.project_id is not None
        if listed is None or listed.state == "failed" or (not listed.complete and not narrowed):
            raise _SourceFailed("failed", "projects could not be listed")
        failures: list[str] = []

        async def one(project: am.Project) -> list[am.ProjectApiKey]:
            keys: list[am.ProjectApiKey] = []
            try:
                await crawl.collect_pages(admin.project_api_keys(project.id), counter, keys)
            except ConnectorError as exc:
                failures.append(str(exc))
            return keys

        # Independent endpoints per project: read concurrently, bounded by the client's slots.
        results = await asyncio.gather(*(one(p) for p in projects))
        inventory.project_api_keys = [
            collect.project_api_key(key, project)
            for project, keys in zip(projects, results, strict=True)
            for key in keys
        ]
        if failures:
            raise _SourceFailed("partial", f"{len(failures)} project(s) unreadable; first: {failures[0]}")
        if narrowed:
            raise _SourceFailed("partial", narrowed_reason(crawl.settings.project_id))

    async def audit_logs(counter: _Counter) -> None:
        # Not cursored across scans: every scan reads the whole window (only login.succeeded events).
        start = crawl.now - timedelta(days=crawl.audit_log_days)
        since = int(start.timestamp())
        inventory.logins_read_since = datetime.fromtimestamp(since, UTC)
        try:
            async for page in admin.login_events(since):
                collect.login_activity(page, crawl.logins)
                counter.page(len(page))
        except ApiError as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429 and not counter.pages:
                raise _SourceFailed(
                    "failed", f"audit logs unavailable (audit logging not enabled or not permitted): {exc}"
                ) from None
            raise

    await asyncio.gather(
        crawl.run(Source.ADMIN_USERS, users),
        crawl.run(Source.ADMIN_INVITES, invites),
        crawl.run(Source.ADMIN_API_KEYS, admin_keys),
        crawl.run(Source.ADMIN_PROJECTS, project_list),
        crawl.run(Source.ADMIN_PROJECT_API_KEYS, project_keys),
        crawl.run(Source.ADMIN_AUDIT_LOGS, audit_logs),
    )


async def _read_conversations(crawl: _Crawl, reader: ComplianceReader, since: float | None, counter: _Counter) -> None:
    cut = _CutLists("conversation")
    async for page in reader.conversations(since):
        for conversation in page:
            cut.note(conversation.id, conversation)
            # A message's own time is activity too; it matches what the Logs Platform reports.
            active = max(
                (t for t in [conversation.last_active_at, *(m.created_at for m in conversation.messages)] if t),
                default=None,
            )
            crawl.conversations.add(conversation.user_id, conversation.user_email, active)
            crawl.raise_mark(conversation.last_active_at)
            # A conversation updated between calls comes back on a later page: its activity is
            # folded in again (max), its files are handed off once.
            crawl._seen_conversations.add(conversation.id)
            await crawl.hand_off(collect.conversation_files(conversation))
        counter.page(len(page))
        counter.objects = len(crawl._seen_conversations)
    cut.check()


async def _read_conversation_logs(
    crawl: _Crawl, reader: ComplianceReader, since: float | None, counter: _Counter
) -> None:
    cut = _CutLists("log event")
    async for files in reader.log_files("CONVERSATION_MESSAGE", since if since is not None else 0.0):
        counter.page(0)
        for log_file in files:
            records = await reader.log_records(log_file.id)
            counter.page(0)
            for record in records:
                if record.get("type") not in (None, "CONVERSATION_MESSAGE"):
                    continue
                event = cm.ConversationMessageEvent.model_validate(record)
                # Delivery is at least once: an event seen twice is folded once.
                if event.event_id is not None and not crawl._seen_events.add(event.event_id):
                    continue
                if event.message is not None:
                    cut.note(event.event_id, event.message)
                if event.conversation is not None and event.conversation.id is not None:
                    crawl._seen_conversations.add(event.conversation.id)
                actor = event.actor
                crawl.conversations.add(
                    actor.user_id if actor else None, actor.user_email if actor else None, event.timestamp
                )
                crawl.raise_mark(event.timestamp)
                await crawl.hand_off(collect.log_event_files(event))
            counter.objects = len(crawl._seen_conversations)
    cut.check()


async def _compliance_sources(
    crawl: _Crawl, inventory: Inventory, since: float | None, conversations_source: ConversationsSource
) -> None:
    assert crawl.clients.compliance is not None
    assert crawl.settings.workspace_id is not None
    reader = ComplianceReader(
        crawl.clients.compliance,
        crawl.settings.workspace_id,
        crawl.clients.unauthenticated,
        crawl.settings.page_size,
        crawl.settings.conversations_page_size,
        crawl.settings.workspace_users_page_size,
        conversations_page_bytes=crawl.settings.conversations_page_bytes,
    )

    async def users(counter: _Counter) -> None:
        async for page in reader.users():
            crawl.workspace_users.extend(collect.workspace_user_record(user) for user in page)
            counter.page(len(page))

    async def all_configs(item: cm.GptOrProject, pages: AsyncIterator[list[cm.Config]]) -> None:
        """A `latest_config` with has_more true is replaced by the configs endpoint's whole list."""
        configs: list[cm.Config] = []
        async for page in pages:
            configs.extend(page)
        item.listed_in_full("latest_config", configs)

    async def configured(
        counter: _Counter,
        kind: str,
        pages: AsyncIterator[list[cm.GptOrProject]],
        configs: Callable[[str], AsyncIterator[list[cm.Config]]],
        keep: Callable[[list[cm.GptOrProject]], None],
    ) -> None:
        """GPTs and projects are read alike: a cut-short `latest_config` is read whole, a list with
        has_more true leaves the source partial."""
        cut = _CutLists(kind)
        async for page in pages:
            for item in page:
                if item.cut_short("latest_config"):
                    await all_configs(item, configs(item.id))
                cut.note(item.id, item)
            keep(page)
            counter.page(len(page))
        cut.check()

    async def gpts(counter: _Counter) -> None:
        await configured(
            counter, "GPT", reader.gpts(), reader.gpt_configs,
            lambda page: inventory.gpts.extend(collect.gpt(item) for item in page),
        )

    async def projects(counter: _Counter) -> None:
        await configured(
            counter, "project", reader.projects(), reader.project_configs,
            lambda page: inventory.chatgpt_projects.extend(collect.chatgpt_project(item) for item in page),
        )

    async def conversations(counter: _Counter) -> None:
        if conversations_source == "logs":
            crawl.conversations_read_from = "logs"
            await _read_conversation_logs(crawl, reader, since, counter)
            return
        try:
            crawl.conversations_read_from = "conversations"
            await _read_conversations(crawl, reader, since, counter)
        except ApiError as exc:
            if conversations_source == "conversations" or counter.pages or exc.status not in _CONVERSATIONS_GONE:
                raise
            log.info("workspace has no /conversations route (HTTP %s); reading the Logs Platform", exc.status)
            crawl.conversations_read_from = "logs"
            await _read_conversation_logs(crawl, reader, since, counter)

    await asyncio.gather(
        crawl.run(Source.WORKSPACE_USERS, users),
        crawl.run(Source.GPTS, gpts),
        crawl.run(Source.CHATGPT_PROJECTS, projects),
        crawl.run(Source.CONVERSATIONS, conversations),
    )


def audit_log_days(lookback_days: int, inactive_user_days: int | None) -> int:
    """Days of login events a crawl reads: the configured lookback, widened to what the inactive-user rule
    needs (its threshold and one day more), so a login older than the lookback but within the threshold
    is never missed and a person it keeps active is never reported inactive."""
    if inactive_user_days is None:
        return lookback_days
    return max(lookback_days, inactive_user_days + 1)


def _file_source_reports(inventory: Inventory, reports: dict[Source, SourceReport], files_handed: int) -> None:
    """A file source's listing is as complete as its container's; DLP may downgrade it later."""
    containers = {
        Source.GPT_FILES: (Source.GPTS, sum(len(g.files) for g in inventory.gpts)),
        Source.PROJECT_FILES: (Source.CHATGPT_PROJECTS, sum(len(p.files) for p in inventory.chatgpt_projects)),
        Source.CONVERSATION_FILES: (Source.CONVERSATIONS, files_handed),
    }
    for source, (container, count) in containers.items():
        parent = reports[container]
        reason = parent.reason if parent.state != "complete" else None
        reports[source] = SourceReport(source, parent.state, reason, pages=0, objects=count)


async def crawl(
    settings: Settings,
    *,
    now: datetime,
    conversations_since: float | None = None,
    progress: CrawlProgress | None = None,
    on_file: FileHandler | None = None,
    conversations_source: ConversationsSource = "auto",
    conversation_activity_baseline: collect.LastSeen | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Sleep = asyncio.sleep,
    groups: frozenset[SourceGroup] = ALL_GROUPS,
    limiter: RollingWindowLimiter | None = None,
    keep_user_records: bool = True,
    inactive_user_days: int | None = None,
) -> CrawlResult:
    """Read both APIs into an Inventory. Never raises for an API failure: each source says how it went.

    In incremental mode (`conversations_since` set) only conversations updated since then are read;
    give the stored per-user activity as `conversation_activity_baseline` so that persons' last
    conversation stays correct (see docs/connectors.md).

    `groups` reads only some halves (the others are reported skipped); `limiter` replaces the
    in-process quota limiter (distributed workers share one). The user records persons were joined
    from are returned for crawls that merge later; `keep_user_records=False` drops them once joined.

    Login events are read `audit_log_days(settings.audit_log_lookback_days, inactive_user_days)` days back:
    give the policy's `inactive_user_days` so that no login the rule needs is left unread.
    """
    inventory = Inventory(now=now, organization_id=settings.org_id, workspace_id=settings.workspace_id)
    async with open_clients(settings, transport=transport, sleep=sleep, limiter=limiter) as clients:
        state = _Crawl(
            settings=settings, clients=clients, now=now, progress=progress, on_file=on_file,
            audit_log_days=audit_log_days(settings.audit_log_lookback_days, inactive_user_days),
        )
        if conversation_activity_baseline is not None:
            state.conversations.merge(conversation_activity_baseline)
        jobs = []
        if "admin" in groups:
            jobs.append(_admin_sources(state, inventory))
        else:
            for source in ADMIN_SOURCES:
                state.report(source, "skipped", None, "not read by this crawl")
        if "compliance" not in groups:
            for source in COMPLIANCE_SOURCES:
                state.report(source, "skipped", None, "not read by this crawl")
        elif settings.has_workspace:
            jobs.append(_compliance_sources(state, inventory, conversations_since, conversations_source))
        else:
            for source in COMPLIANCE_SOURCES:
                state.report(source, "skipped", None, NO_WORKSPACE)
        try:
            await asyncio.gather(*jobs)
        finally:
            state.close()
        requests = clients.requests
    _file_source_reports(inventory, state.reports, len(state._seen_files))
    inventory.sources = state.reports
    inventory.persons = collect.persons(state.org_users, state.workspace_users, state.logins, state.conversations)
    return CrawlResult(
        inventory=inventory,
        conversations_high_water_mark=(
            state.high_water_mark if state.high_water_mark is not None else conversations_since
        ),
        conversation_activity=state.conversations,
        conversations_read_from=state.conversations_read_from,
        requests=requests,
        org_users=state.org_users if keep_user_records else [],
        workspace_users=state.workspace_users if keep_user_records else [],
        login_activity=state.logins,
    )
