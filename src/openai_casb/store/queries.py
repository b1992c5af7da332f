"""Read queries for the CLI and the REST API: filtered, paginated, index-friendly."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from openai_casb.detections import Severity
from openai_casb.store.records import (
    EventRecord,
    EventType,
    FindingStatus,
    InstanceStatus,
    InstanceView,
    ScanRecord,
    ScanStatus,
)
from openai_casb.store.schema import (
    AssetRow,
    EventRow,
    FindingRow,
    FindingTypeRow,
    InstanceRow,
    IntegrationRow,
    ScanRow,
)

# The finding's override, else its type's default: denormalized on findings (kept in step by `Store`)
# so a severity filter reads one small table instead of joining finding types for every instance.
effective_severity = FindingRow.effective_severity


def search_condition(session: Session, text: str) -> ColumnElement[bool]:
    """Instances whose asset name, e-mail or id, or whose finding type's name, contains `text` (any case).

    The few finding types are matched first, so that the condition on instances is an asset-id lookup
    (answered on PostgreSQL from the trigram indexes of migration 0005, then the asset index) rather
    than one OR across joined tables, which no index can serve.
    """
    matching_assets = select(AssetRow.id).where(or_(
        AssetRow.name.icontains(text, autoescape=True),
        AssetRow.email.icontains(text, autoescape=True),
        AssetRow.external_id.icontains(text, autoescape=True),
    ))
    by_asset = InstanceRow.asset_id.in_(matching_assets)
    type_ids = list(session.scalars(
        select(FindingTypeRow.id).where(FindingTypeRow.name.icontains(text, autoescape=True))
    ))
    if not type_ids:
        return by_asset
    findings = select(FindingRow.id).where(FindingRow.finding_type_id.in_(type_ids))
    return or_(by_asset, InstanceRow.finding_id.in_(findings))


def hide_expired(now: datetime) -> ColumnElement[bool]:
    """Hidden rows whose `hidden_until` has passed. They read as `active` (docs/lifecycle.md, "Hidden"):
    the hide ends when its time is up, while the row and the `unhidden` event are written by the next
    scan of the integration (or by hiding the instance again)."""
    return and_(InstanceRow.status == InstanceStatus.HIDDEN, InstanceRow.hidden_until.is_not(None),
                InstanceRow.hidden_until <= now)


def status_condition(statuses: Iterable[InstanceStatus | str], now: datetime) -> ColumnElement[bool]:
    """Instances whose status, as read at `now`, is one of `statuses` (an expired hide reads as active)."""
    wanted = {InstanceStatus(s) for s in statuses}
    parts: list[ColumnElement[bool]] = []
    if {InstanceStatus.ACTIVE, InstanceStatus.HIDDEN} <= wanted:  # expiry moves rows between the two only
        parts.append(InstanceRow.status.in_([str(InstanceStatus.ACTIVE), str(InstanceStatus.HIDDEN)]))
    elif InstanceStatus.ACTIVE in wanted:
        parts.append(or_(InstanceRow.status == InstanceStatus.ACTIVE, hide_expired(now)))
    elif InstanceStatus.HIDDEN in wanted:
        parts.append(and_(InstanceRow.status == InstanceStatus.HIDDEN,
                          or_(InstanceRow.hidden_until.is_(None), InstanceRow.hidden_until > now)))
    if InstanceStatus.RESOLVED in wanted:
        parts.append(InstanceRow.status == InstanceStatus.RESOLVED)
    return or_(*parts) if parts else InstanceRow.status.in_([])


def hide_over(status: str, hidden_until: datetime | None, now: datetime) -> bool:
    """A hidden instance whose `hidden_until` has passed (`hide_expired` is the same test in SQL)."""
    return status == InstanceStatus.HIDDEN and hidden_until is not None and hidden_until <= now


@dataclass(frozen=True, slots=True)
class ShownHide:
    """An instance's status and hide as read at a moment: a hide past its `hidden_until` is over."""

    status: InstanceStatus
    hidden_by: str | None
    hidden_reason: str | None
    hidden_until: datetime | None

    @classmethod
    def of(cls, status: str, hidden_by: str | None, hidden_reason: str | None, hidden_until: datetime | None,
           now: datetime) -> ShownHide:
        if hide_over(status, hidden_until, now):
            return cls(InstanceStatus.ACTIVE, None, None, None)
        return cls(InstanceStatus(status), hidden_by, hidden_reason, hidden_until)


@dataclass(frozen=True, slots=True)
class InstanceFilter:
    integration_id: int | None = None
    status: Iterable[InstanceStatus | str] | InstanceStatus | str | None = None
    severity_min: Severity | None = None
    finding_type: str | None = None  # finding type id
    finding_status: FindingStatus | str | None = None
    search: str | None = None
    now: datetime | None = None  # when statuses are read (an expired hide is active); None: the current time

    def conditions(self, session: Session) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.integration_id is not None:
            conditions.append(FindingRow.integration_id == self.integration_id)
        if self.status is not None:
            statuses = [self.status] if isinstance(self.status, str) else list(self.status)
            conditions.append(status_condition(statuses, self.now or datetime.now(UTC)))
        if self.severity_min is not None:
            conditions.append(effective_severity >= int(self.severity_min))
        if self.finding_type is not None:
            conditions.append(FindingRow.finding_type_id == self.finding_type)
        if self.finding_status is not None:
            conditions.append(FindingRow.status == str(FindingStatus(self.finding_status)))
        if self.search:
            conditions.append(search_condition(session, self.search.strip()))
        return conditions


def _instance_select(*columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .select_from(InstanceRow)
        .join(FindingRow, InstanceRow.finding_id == FindingRow.id)
        .join(FindingTypeRow, FindingRow.finding_type_id == FindingTypeRow.id)
        .join(AssetRow, InstanceRow.asset_id == AssetRow.id)
    )


_VIEW_COLUMNS = (InstanceRow, FindingRow, FindingTypeRow, AssetRow, effective_severity.label("effective"))


def _view(row: Row[Any], now: datetime | None = None) -> InstanceView:
    instance, finding, finding_type, asset, effective = cast(
        tuple[InstanceRow, FindingRow, FindingTypeRow, AssetRow, int], tuple(row)
    )
    shown = ShownHide.of(instance.status, instance.hidden_by, instance.hidden_reason, instance.hidden_until,
                         now or datetime.now(UTC))
    return InstanceView(
        id=instance.id,
        integration_id=finding.integration_id,
        finding_type_id=finding_type.id,
        finding_type=finding_type.name,
        severity=Severity(effective),
        default_severity=Severity(finding_type.severity),
        group=finding_type.group_name,
        group_order=finding_type.group_order,
        finding_status=FindingStatus(finding.status),
        status=shown.status,
        asset_kind=asset.kind,
        asset_id=asset.external_id,
        asset_name=asset.name,
        asset_email=asset.email,
        asset_link=asset.link,
        asset_metadata=dict(asset.asset_metadata or {}),
        evidence=dict(instance.evidence or {}),
        first_detected=instance.first_detected,
        last_detected=instance.last_detected,
        resolved_at=instance.resolved_at,
        hidden_reason=shown.hidden_reason,
        hidden_by=shown.hidden_by,
        hidden_until=shown.hidden_until,
        new_in_scan_id=instance.new_in_scan_id,
    )


def list_instances(session: Session, filters: InstanceFilter, limit: int, offset: int) -> list[InstanceView]:
    """Ordered as a UI shows them: by group, then most severe first, then type name, then id."""
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")
    query = (
        _instance_select(*_VIEW_COLUMNS)
        .where(*filters.conditions(session))
        .order_by(FindingTypeRow.group_order, effective_severity.desc(), FindingTypeRow.name, InstanceRow.id)
        .limit(limit)
        .offset(offset)
    )
    return [_view(row, filters.now) for row in session.execute(query)]


def count_instances(session: Session, filters: InstanceFilter) -> int:
    query = _instance_select(func.count(InstanceRow.id)).where(*filters.conditions(session))
    return int(session.execute(query).scalar_one())


def get_instance(session: Session, instance_id: int, now: datetime | None = None) -> InstanceView | None:
    row = session.execute(_instance_select(*_VIEW_COLUMNS).where(InstanceRow.id == instance_id)).first()
    return _view(row, now) if row is not None else None


def event_record(row: EventRow) -> EventRecord:
    return EventRecord(
        id=row.id,
        instance_id=row.instance_id,
        scan_id=row.scan_id,
        event_type=EventType(row.event_type),
        at=row.at,
        details=dict(row.details or {}),
    )


def instance_events(session: Session, instance_id: int) -> list[EventRecord]:
    query = select(EventRow).where(EventRow.instance_id == instance_id).order_by(EventRow.id)
    return [event_record(row) for row in session.scalars(query)]


def events(
    session: Session,
    since_scan_id: int | None,
    after_event_id: int | None,
    integration_id: int | None,
    limit: int | None,
) -> list[EventRecord]:
    """Events in the order they happened. `since_scan_id` starts after that scan's last event."""
    query = select(EventRow).order_by(EventRow.id)
    # The cursor of the newest finished scan up to `since_scan_id` (a running scan has none yet).
    cursor = None if since_scan_id is None else session.execute(
        select(ScanRow.last_event_id).where(ScanRow.id <= since_scan_id, ScanRow.last_event_id.is_not(None))
        .order_by(ScanRow.id.desc()).limit(1)
    ).scalar_one_or_none()
    if cursor is not None:
        query = query.where(EventRow.id > cursor)
    elif since_scan_id is not None:  # scans finished before the cursor existed: by their events' ids
        last = session.execute(
            select(func.max(EventRow.id)).where(EventRow.scan_id <= since_scan_id)
        ).scalar_one_or_none()
        if last is not None:
            query = query.where(EventRow.id > last)
        else:  # that scan and those before it produced no events: everything from later scans
            query = query.where(or_(EventRow.scan_id > since_scan_id, EventRow.scan_id.is_(None)))
    if after_event_id is not None:
        query = query.where(EventRow.id > after_event_id)
    if integration_id is not None:
        query = query.join(InstanceRow, EventRow.instance_id == InstanceRow.id).join(
            FindingRow, InstanceRow.finding_id == FindingRow.id
        ).where(FindingRow.integration_id == integration_id)
    if limit is not None:
        query = query.limit(limit)
    return [event_record(row) for row in session.scalars(query)]


def scan_record(scan: ScanRow, integration_name: str) -> ScanRecord:
    return ScanRecord(
        id=scan.id,
        integration_id=scan.integration_id,
        integration_name=integration_name,
        started_at=scan.started_at,
        finished_at=scan.finished_at,
        status=ScanStatus(scan.status),
        source_reports=list(scan.source_reports or []),
        errors=list(scan.errors or []),
        severity_counts=dict(scan.severity_counts or {}),
        new=scan.new_count,
        reopened=scan.reopened_count,
        resolved=scan.resolved_count,
        high_water_mark=scan.high_water_mark,
    )


def list_scans(session: Session, integration_id: int | None, limit: int, offset: int) -> list[ScanRecord]:
    query = select(ScanRow, IntegrationRow.display_name).join(IntegrationRow)
    if integration_id is not None:
        query = query.where(ScanRow.integration_id == integration_id)
    query = query.order_by(ScanRow.id.desc()).limit(limit).offset(offset)
    return [scan_record(scan, name) for scan, name in session.execute(query)]
