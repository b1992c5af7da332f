"""`Store`: the one entry point to the database for scanning, the CLI and the REST API."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from openai_casb.detections import Detection, FindingTypeInfo, Severity
from openai_casb.inventory.model import SourceReport
from openai_casb.store import queries
from openai_casb.store.database import create_store_engine, migrate, parse_url, safe_url
from openai_casb.store.guard import refuse_secrets
from openai_casb.store.lifecycle import ScanOutcome, apply_scan, newest_event_id
from openai_casb.store.records import (
    MUTELIST,
    EventRecord,
    EventType,
    FindingStatus,
    FindingTypeRecord,
    InstanceDetail,
    InstanceStatus,
    InstanceView,
    Integration,
    MuteRules,
    NotFoundError,
    ScanNotRunningError,
    ScanRecord,
    ScanRunningError,
    ScanStatus,
    ScanSummary,
    StoreError,
)
from openai_casb.store.schema import (
    DlpCacheRow,
    EventRow,
    FindingRow,
    FindingTypeRow,
    InstanceRow,
    IntegrationRow,
    ScanRow,
    UserActivityRow,
)

# A running scan whose heartbeat is older than this is dead (its process was killed, its worker lost):
# the next begin_scan of its integration marks it interrupted. Runners renew the heartbeat far more
# often (scanning.run every 30 s; distributed tasks with their Redis lock, every third of its 300 s TTL).
SCAN_STALE_AFTER = timedelta(minutes=5)
SCAN_STALE_ENV = "OPENAI_CASB_SCAN_STALE_SECONDS"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def stale_after_from_env(env: Mapping[str, str] | None = None) -> timedelta:
    """`OPENAI_CASB_SCAN_STALE_SECONDS` when set (0: any running scan counts as dead), else SCAN_STALE_AFTER."""
    text = (os.environ if env is None else env).get(SCAN_STALE_ENV, "").strip()
    if not text:
        return SCAN_STALE_AFTER
    try:
        seconds = float(text)
    except ValueError:
        raise StoreError(f"{SCAN_STALE_ENV} must be a number of seconds, not {text!r}") from None
    if seconds < 0:
        raise StoreError(f"{SCAN_STALE_ENV} must not be negative")
    return timedelta(seconds=seconds)


def _integration(row: IntegrationRow) -> Integration:
    return Integration(row.id, row.organization_id, row.workspace_id, row.display_name)


def _finding_type(row: FindingTypeRow) -> FindingTypeRecord:
    return FindingTypeRecord(row.id, row.name, Severity(row.severity), row.enterprise, row.group_name, row.group_order)


class Store:
    """Typed access to integrations, scans, findings, instances, events and the DLP cache."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = _utcnow,
                 scan_stale_after: timedelta | None = None) -> None:
        self.engine = engine
        self.clock = clock  # heartbeats and their age (tests inject theirs)
        self.scan_stale_after = stale_after_from_env() if scan_stale_after is None else scan_stale_after
        self._read = sessionmaker(engine, expire_on_commit=False)
        # On SQLite, write transactions take the write lock at BEGIN (see database.py).
        self._write = sessionmaker(engine.execution_options(store_write=True), expire_on_commit=False)

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """Connect (to `url`, else `OPENAI_CASB_DB`, else the SQLite default) and migrate to the latest schema."""
        engine = create_store_engine(parse_url(url))
        migrate(engine)
        return cls(engine)

    @property
    def url(self) -> str:
        return safe_url(self.engine.url)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _session(self, write: bool = False) -> Iterator[Session]:
        factory = self._write if write else self._read
        try:
            with factory() as session, session.begin():
                yield session
        except OperationalError as exc:
            raise StoreError(f"database {self.url} failed: {str(exc.orig).strip().splitlines()[0]}") from None

    # --- integrations and finding types -------------------------------------------------------

    def ensure_integration(self, organization_id: str | None, workspace_id: str | None,
                           display_name: str) -> Integration:
        if not organization_id and not workspace_id:
            raise StoreError("an integration needs an organization id or a workspace id")
        key = f"{organization_id or ''}|{workspace_id or ''}"
        with self._session(write=True) as session:
            row = session.scalars(select(IntegrationRow).where(IntegrationRow.integration_key == key)).first()
            if row is None:
                row = IntegrationRow(integration_key=key, organization_id=organization_id or None,
                                     workspace_id=workspace_id or None, display_name=display_name,
                                     created_at=_utcnow())
                session.add(row)
            row.display_name = display_name
            session.flush()
            return _integration(row)

    def integrations(self) -> list[Integration]:
        with self._session() as session:
            return [_integration(row) for row in session.scalars(select(IntegrationRow).order_by(IntegrationRow.id))]

    def get_integration(self, integration_id: int) -> Integration:
        with self._session() as session:
            row = session.get(IntegrationRow, integration_id)
            if row is None:
                raise NotFoundError(f"no integration with id {integration_id}")
            return _integration(row)

    def sync_finding_types(self, infos: Iterable[FindingTypeInfo]) -> None:
        with self._session(write=True) as session:
            for info in infos:
                row = session.get(FindingTypeRow, info.id) or FindingTypeRow(id=info.id)
                row.name, row.severity, row.enterprise = info.name, int(info.severity), info.enterprise
                row.group_name, row.group_order = info.group, info.group_order
                row.sources = [str(source) for source in info.sources]
                session.add(row)
                session.execute(  # findings without an override follow their type's default
                    update(FindingRow)
                    .where(FindingRow.finding_type_id == info.id, FindingRow.severity_override.is_(None))
                    .values(effective_severity=int(info.severity))
                )

    def finding_types(self) -> list[FindingTypeRecord]:
        with self._session() as session:
            rows = session.scalars(select(FindingTypeRow).order_by(FindingTypeRow.group_order, FindingTypeRow.name))
            return [_finding_type(row) for row in rows]

    def resolve_finding_type(self, text: str) -> FindingTypeRecord:
        """A finding type by its id or its exact name."""
        wanted = text.strip()
        for record in self.finding_types():
            if wanted in (record.id, record.name):
                return record
        raise NotFoundError(
            f"unknown finding type {text!r}; give its id or exact name (see `openai-casb finding-types`)"
        )

    # --- scans --------------------------------------------------------------------------------

    def begin_scan(self, integration_id: int, started_at: datetime | None = None) -> int:
        """Record a running scan (committed at once), with a fresh heartbeat.

        One scan of an integration at a time: raises ScanRunningError while another scan of it runs
        (its heartbeat is younger than `scan_stale_after`). A running scan whose heartbeat is older is
        dead (its process was killed) and is marked interrupted.
        """
        with self._session(write=True) as session:
            # The integration's row lock serializes two begin_scan on PostgreSQL (SQLite: the write lock).
            integration = session.get(IntegrationRow, integration_id, with_for_update=True)
            if integration is None:
                raise NotFoundError(f"no integration with id {integration_id}")
            now = self.clock()
            running = session.scalars(
                select(ScanRow).where(ScanRow.integration_id == integration_id, ScanRow.status == ScanStatus.RUNNING)
                .order_by(ScanRow.id)
            ).all()
            for other in running:
                # NULL: a scan recorded before heartbeats existed, alive since it started.
                beat = other.heartbeat_at or other.started_at
                if beat > now - self.scan_stale_after:
                    raise ScanRunningError(integration_id, integration.display_name, other.id, other.started_at,
                                           beat, self.scan_stale_after, now)
            for other in running:
                other.status = ScanStatus.INTERRUPTED
            scan = ScanRow(integration_id=integration_id, started_at=started_at or now, heartbeat_at=now,
                           status=ScanStatus.RUNNING, source_reports=[], errors=[], severity_counts={},
                           new_count=0, reopened_count=0, resolved_count=0)
            session.add(scan)
            session.flush()
            return scan.id

    def touch_scan(self, scan_id: int) -> bool:
        """Renew a running scan's heartbeat; False when it is no longer running (finished, or interrupted)."""
        with self._session(write=True) as session:
            result = session.execute(
                update(ScanRow).where(ScanRow.id == scan_id, ScanRow.status == ScanStatus.RUNNING)
                .values(heartbeat_at=self.clock())
            )
            return bool(getattr(result, "rowcount", 0))

    def finish_scan(
        self,
        scan_id: int,
        *,
        detections: Iterable[Detection],
        mute_rules: MuteRules | None = None,
        evaluated_type_ids: Iterable[str],
        complete_type_ids: Iterable[str],
        source_reports: Sequence[SourceReport] = (),
        status: ScanStatus | str = ScanStatus.COMPLETE,
        errors: Sequence[str] = (),
        high_water_mark: float | None = None,
        user_activity: Mapping[str, datetime] | None = None,
        finished_at: datetime | None = None,
    ) -> ScanSummary:
        """Apply a scan's results in ONE transaction: killed midway, the previous results stand."""
        outcome = ScanOutcome(
            evaluated_type_ids=frozenset(evaluated_type_ids),
            complete_type_ids=frozenset(complete_type_ids),
            source_reports=tuple(source_reports),
            status=ScanStatus(status),
            errors=tuple(errors),
            high_water_mark=high_water_mark,
            user_activity=dict(user_activity or {}),
            now=finished_at or _utcnow(),
        )
        with self._session(write=True) as session:
            scan = self._running_scan(session, scan_id)
            return apply_scan(session, scan, detections, mute_rules, outcome)

    def fail_scan(self, scan_id: int, error: str, finished_at: datetime | None = None) -> None:
        """Mark a scan failed without touching findings: a failed scan resolves nothing."""
        refuse_secrets("the scan error", error)
        with self._session(write=True) as session:
            scan = self._running_scan(session, scan_id)
            scan.status = ScanStatus.FAILED
            scan.finished_at = finished_at or _utcnow()
            scan.errors = [*scan.errors, error]
            scan.last_event_id = newest_event_id(session)

    @staticmethod
    def _running_scan(session: Session, scan_id: int) -> ScanRow:
        scan = session.get(ScanRow, scan_id)
        if scan is None:
            raise NotFoundError(f"no scan with id {scan_id}")
        if scan.status == ScanStatus.INTERRUPTED:
            raise ScanNotRunningError(
                f"scan {scan_id} was marked interrupted: its heartbeat stopped for too long, so a later scan "
                "took it for dead; its results were not stored; start a new scan"
            )
        if scan.status != ScanStatus.RUNNING:
            raise ScanNotRunningError(f"scan {scan_id} is {scan.status}, not running; start a new scan")
        return scan

    def last_high_water_mark(self, integration_id: int) -> float | None:
        """The conversations high-water mark of the latest finished scan that recorded one."""
        with self._session() as session:
            return session.scalars(
                select(ScanRow.high_water_mark)
                .where(ScanRow.integration_id == integration_id, ScanRow.high_water_mark.is_not(None),
                       ScanRow.status.in_([ScanStatus.COMPLETE, ScanStatus.PARTIAL]))
                .order_by(ScanRow.id.desc())
                .limit(1)
            ).first()

    def user_activity(self, integration_id: int) -> dict[str, datetime]:
        with self._session() as session:
            rows = session.scalars(select(UserActivityRow).where(UserActivityRow.integration_id == integration_id))
            return {row.user_key: row.last_active_at for row in rows}

    def list_scans(self, integration_id: int | None = None, limit: int = 50, offset: int = 0) -> list[ScanRecord]:
        with self._session() as session:
            return queries.list_scans(session, integration_id, limit, offset)

    # --- instances ----------------------------------------------------------------------------

    def list_instances(
        self,
        integration_id: int | None = None,
        status: Iterable[InstanceStatus | str] | InstanceStatus | str | None = None,
        severity_min: Severity | None = None,
        finding_type: str | None = None,
        search: str | None = None,
        limit: int = 100,
        offset: int = 0,
        finding_status: FindingStatus | str | None = None,
    ) -> list[InstanceView]:
        filters = queries.InstanceFilter(integration_id, status, severity_min, finding_type, finding_status, search,
                                         now=self.clock())
        with self._session() as session:
            return queries.list_instances(session, filters, limit, offset)

    def count_instances(
        self,
        integration_id: int | None = None,
        status: Iterable[InstanceStatus | str] | InstanceStatus | str | None = None,
        severity_min: Severity | None = None,
        finding_type: str | None = None,
        search: str | None = None,
        finding_status: FindingStatus | str | None = None,
    ) -> int:
        filters = queries.InstanceFilter(integration_id, status, severity_min, finding_type, finding_status, search,
                                         now=self.clock())
        with self._session() as session:
            return queries.count_instances(session, filters)

    def get_instance(self, instance_id: int) -> InstanceDetail:
        with self._session() as session:
            view = queries.get_instance(session, instance_id, self.clock())
            if view is None:
                raise NotFoundError(f"no finding instance with id {instance_id}")
            return InstanceDetail(view, queries.instance_events(session, instance_id))

    def hide(self, instance_id: int, reason: str, by: str, until: datetime | None = None) -> None:
        """Hide an instance for a person's reason; it stays hidden across scans (until `until`, if given)."""
        if not reason.strip():
            raise StoreError("hiding needs a reason")
        if not by.strip():
            raise StoreError("hiding needs the name of who hides it")
        refuse_secrets("the hide reason", reason)
        with self._session(write=True) as session:
            instance = self._instance(session, instance_id)
            if instance.status == InstanceStatus.RESOLVED:
                raise StoreError(f"instance {instance_id} is resolved; only active or hidden instances can be hidden")
            by_user = instance.hidden_by not in (None, MUTELIST)
            if by_user and queries.hide_over(instance.status, instance.hidden_until, self.clock()):
                # The hide is over (it already reads as active): record its end, as the next scan would,
                # before the new hide, so that the events stay one per transition.
                session.add(EventRow(instance_id=instance_id, scan_id=None, event_type=EventType.UNHIDDEN, at=_utcnow(),
                                     details={"by": instance.hidden_by, "reason": "hide expired"}))
            elif by_user and instance.status == InstanceStatus.HIDDEN:
                # One event per transition: hiding again would send SIEMs and webhooks a second `hidden`.
                raise StoreError(f"instance {instance_id} is already hidden by {instance.hidden_by}; "
                                 "unhide it first to hide it with another reason or expiry")
            instance.status = InstanceStatus.HIDDEN
            instance.hidden_reason, instance.hidden_by, instance.hidden_until = reason.strip(), by.strip(), until
            details = {"by": by.strip(), "reason": reason.strip(), "until": until.isoformat() if until else None}
            session.add(EventRow(instance_id=instance_id, scan_id=None, event_type=EventType.HIDDEN,
                                 at=_utcnow(), details=details))

    def unhide(self, instance_id: int, by: str = "user") -> None:
        with self._session(write=True) as session:
            instance = self._instance(session, instance_id)
            if instance.status != InstanceStatus.HIDDEN and instance.hidden_by is None:
                raise StoreError(f"instance {instance_id} is not hidden")
            until = instance.hidden_until
            if until is not None and queries.hide_over(instance.status, until, self.clock()):
                raise StoreError(f"instance {instance_id} is not hidden: its hide expired at {until.isoformat()}")
            if instance.status == InstanceStatus.HIDDEN:
                instance.status = InstanceStatus.ACTIVE
            instance.hidden_reason = instance.hidden_by = None
            instance.hidden_until = None
            session.add(EventRow(instance_id=instance_id, scan_id=None, event_type=EventType.UNHIDDEN,
                                 at=_utcnow(), details={"by": by}))

    @staticmethod
    def _instance(session: Session, instance_id: int) -> InstanceRow:
        instance = session.get(InstanceRow, instance_id)
        if instance is None:
            raise NotFoundError(f"no finding instance with id {instance_id}")
        return instance

    # --- findings (integration, finding type) -------------------------------------------------

    def _finding(self, session: Session, integration_id: int, type_id: str) -> FindingRow:
        if session.get(IntegrationRow, integration_id) is None:
            raise NotFoundError(f"no integration with id {integration_id}")
        finding_type = session.get(FindingTypeRow, type_id)
        if finding_type is None:
            raise NotFoundError(f"unknown finding type {type_id!r}")
        finding = session.scalars(
            select(FindingRow).where(FindingRow.integration_id == integration_id, FindingRow.finding_type_id == type_id)
        ).first()
        if finding is None:
            finding = FindingRow(integration_id=integration_id, finding_type_id=type_id, status=FindingStatus.ACTIVE,
                                 effective_severity=finding_type.severity)
            session.add(finding)
        return finding

    def ignore_type(self, integration_id: int, type_id: str) -> None:
        """Keep evaluating the type, but show its instances apart."""
        with self._session(write=True) as session:
            self._finding(session, integration_id, type_id).status = FindingStatus.IGNORED

    def unignore_type(self, integration_id: int, type_id: str) -> None:
        with self._session(write=True) as session:
            self._finding(session, integration_id, type_id).status = FindingStatus.ACTIVE

    def override_severity(self, integration_id: int, type_id: str, level: Severity | None) -> None:
        """Set the finding's severity (None returns to the type's default)."""
        with self._session(write=True) as session:
            finding = self._finding(session, integration_id, type_id)
            finding.severity_override = int(level) if level is not None else None
            finding.effective_severity = int(level) if level is not None else \
                session.get_one(FindingTypeRow, type_id).severity

    def finding_settings(self, integration_id: int) -> dict[str, tuple[FindingStatus, Severity | None]]:
        """Per finding type id: whether it is ignored, and its severity override."""
        with self._session() as session:
            rows = session.scalars(select(FindingRow).where(FindingRow.integration_id == integration_id))
            return {
                row.finding_type_id: (
                    FindingStatus(row.status),
                    Severity(row.severity_override) if row.severity_override is not None else None,
                )
                for row in rows
            }

    # --- events and the DLP cache -------------------------------------------------------------

    def events(
        self,
        since_scan_id: int | None = None,
        *,
        after_event_id: int | None = None,
        integration_id: int | None = None,
        limit: int | None = None,
    ) -> list[EventRecord]:
        with self._session() as session:
            return queries.events(session, since_scan_id, after_event_id, integration_id, limit)

    def dlp_cache_get(self, cache_key: str) -> dict[str, Any] | None:
        with self._session() as session:
            row = session.get(DlpCacheRow, cache_key)
            return dict(row.verdict) if row is not None else None

    def dlp_cache_put(self, cache_key: str, verdict: Mapping[str, Any]) -> None:
        refuse_secrets("the DLP verdict", dict(verdict))
        with self._session(write=True) as session:
            row = session.get(DlpCacheRow, cache_key) or DlpCacheRow(cache_key=cache_key)
            row.verdict, row.created_at = dict(verdict), _utcnow()
            session.add(row)
