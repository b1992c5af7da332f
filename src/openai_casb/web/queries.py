"""Read queries the dashboard and the API need beyond `Store`'s: grouped counts, assets, filtered pages.

Instance pages are ordered newest first (instance id descending), which an index walk serves
without sorting the whole table; totals are exact counts over the same filters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from openai_casb.detections import Severity
from openai_casb.store import FindingStatus, InstanceStatus, ScanRecord, Store
from openai_casb.store.queries import ShownHide, effective_severity, scan_record, search_condition, status_condition
from openai_casb.store.schema import (
    AssetRow,
    FindingRow,
    FindingTypeRow,
    InstanceRow,
    IntegrationRow,
    ScanRow,
)


@dataclass(frozen=True, slots=True)
class InstanceQuery:
    """Filters of the findings list. Empty tuples and None mean "any"."""

    statuses: tuple[InstanceStatus, ...] = (InstanceStatus.ACTIVE,)
    severities: tuple[Severity, ...] = ()
    finding_type_id: str | None = None
    integration_id: int | None = None
    group: str | None = None
    search: str | None = None
    finding_status: FindingStatus | None = None
    asset_kind: str | None = None

    def conditions(self, session: Session, now: datetime) -> list[ColumnElement[bool]]:
        """At `now`: a hide whose `hidden_until` has passed reads as active (store.queries.status_condition)."""
        conditions: list[ColumnElement[bool]] = []
        if self.statuses:
            conditions.append(status_condition(self.statuses, now))
        if self.severities:
            conditions.append(effective_severity.in_([int(s) for s in self.severities]))
        if self.finding_type_id:
            conditions.append(FindingRow.finding_type_id == self.finding_type_id)
        if self.integration_id is not None:
            conditions.append(FindingRow.integration_id == self.integration_id)
        if self.group:
            conditions.append(FindingTypeRow.group_name == self.group)
        if self.finding_status is not None:
            conditions.append(FindingRow.status == str(self.finding_status))
        if self.asset_kind:
            conditions.append(AssetRow.kind == self.asset_kind)
        text = (self.search or "").strip()
        if text:
            # The store's search: an asset-id lookup served by indexes, not an OR across joined tables.
            conditions.append(search_condition(session, text))
        return conditions

    def count_query(self, session: Session, now: datetime) -> Select[Any]:
        """`count(*)` joining only the tables the filters touch: a status-only count reads one index."""
        needs_type = bool(self.group)
        needs_finding = needs_type or bool(self.severities) or self.integration_id is not None \
            or bool(self.finding_type_id) or self.finding_status is not None
        needs_asset = bool(self.asset_kind)
        query = select(func.count()).select_from(InstanceRow)
        if needs_finding:
            query = query.join(FindingRow, InstanceRow.finding_id == FindingRow.id)
        if needs_type:
            query = query.join(FindingTypeRow, FindingRow.finding_type_id == FindingTypeRow.id)
        if needs_asset:
            query = query.join(AssetRow, InstanceRow.asset_id == AssetRow.id)
        return query.where(*self.conditions(session, now))


@dataclass(frozen=True, slots=True)
class InstanceRowView:
    id: int
    integration_id: int
    integration_name: str
    finding_type_id: str
    finding_type: str
    group: str
    severity: Severity
    finding_status: str
    status: str
    asset_kind: str
    asset_id: str
    asset_name: str | None
    asset_email: str | None
    evidence: dict[str, Any]
    first_detected: Any
    last_detected: Any
    hidden_reason: str | None
    hidden_by: str | None


@dataclass(frozen=True, slots=True)
class FindingSummary:
    integration_id: int
    integration_name: str
    finding_type_id: str
    finding_type: str
    group: str
    group_order: int
    severity: Severity
    default_severity: Severity
    finding_status: str
    active: int
    hidden: int
    resolved: int


@dataclass(frozen=True, slots=True)
class Overview:
    by_severity: dict[str, int] = field(default_factory=dict)
    by_group: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    total_active: int = 0


def _joined(*columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .select_from(InstanceRow)
        .join(FindingRow, InstanceRow.finding_id == FindingRow.id)
        .join(FindingTypeRow, FindingRow.finding_type_id == FindingTypeRow.id)
        .join(AssetRow, InstanceRow.asset_id == AssetRow.id)
    )


class WebQueries:
    def __init__(self, store: Store) -> None:
        self._sessions = sessionmaker(store.engine, expire_on_commit=False)
        self._store = store

    def _clock(self) -> datetime:
        """When statuses are read (the store's clock): an expired hide reads as active."""
        return self._store.clock()

    def _session(self) -> Session:
        return self._sessions()

    def instances(self, query: InstanceQuery, limit: int, offset: int,
                  with_total: bool = True) -> tuple[list[InstanceRowView], int]:
        with self._session() as session:
            return self._instances(session, query, limit, offset, with_total)

    def _instances(self, session: Session, query: InstanceQuery, limit: int, offset: int,
                   with_total: bool) -> tuple[list[InstanceRowView], int]:
        now = self._clock()
        conditions = query.conditions(session, now)
        page = (
            _joined(InstanceRow, FindingRow, FindingTypeRow, AssetRow, effective_severity, IntegrationRow.display_name)
            .join(IntegrationRow, FindingRow.integration_id == IntegrationRow.id)
            .where(*conditions)
            .order_by(InstanceRow.id.desc())
            .limit(limit)
            .offset(offset)
        )
        rows = [_instance_row(*row, now=now) for row in session.execute(page)]
        total = int(session.execute(query.count_query(session, now)).scalar_one()) if with_total else len(rows)
        return rows, total

    def findings(self, integration_id: int | None = None, finding_status: FindingStatus | None = None,
                 group: str | None = None) -> list[FindingSummary]:
        """One row per (integration, finding type) that has instances, with counts by status (as read now)."""
        now = self._clock()
        counts = (
            select(
                InstanceRow.finding_id,
                func.count().filter(status_condition([InstanceStatus.ACTIVE], now)).label("active"),
                func.count().filter(status_condition([InstanceStatus.HIDDEN], now)).label("hidden"),
                func.count().filter(InstanceRow.status == InstanceStatus.RESOLVED).label("resolved"),
            )
            .group_by(InstanceRow.finding_id)
            .subquery()
        )
        query = (
            select(FindingRow, FindingTypeRow, IntegrationRow.display_name, effective_severity,
                   counts.c.active, counts.c.hidden, counts.c.resolved)
            .join(FindingTypeRow, FindingRow.finding_type_id == FindingTypeRow.id)
            .join(IntegrationRow, FindingRow.integration_id == IntegrationRow.id)
            .outerjoin(counts, counts.c.finding_id == FindingRow.id)
            .order_by(FindingTypeRow.group_order, effective_severity.desc(), FindingTypeRow.name, FindingRow.id)
        )
        if integration_id is not None:
            query = query.where(FindingRow.integration_id == integration_id)
        if finding_status is not None:
            query = query.where(FindingRow.status == str(finding_status))
        if group:
            query = query.where(FindingTypeRow.group_name == group)
        with self._session() as session:
            return [
                FindingSummary(finding.integration_id, name, ftype.id, ftype.name, ftype.group_name,
                               ftype.group_order, Severity(level), Severity(ftype.severity), finding.status,
                               int(active or 0), int(hidden or 0), int(resolved or 0))
                for finding, ftype, name, level, active, hidden, resolved in session.execute(query)
            ]

    def overview(self, integration_id: int | None = None) -> Overview:
        """Active instances of non-ignored findings by severity and by group."""
        # Count per finding first (an index-only scan of (finding_id, status)), then join the few findings.
        per_finding = (
            select(InstanceRow.finding_id, func.count().label("active"))
            .where(status_condition([InstanceStatus.ACTIVE], self._clock()))
            .group_by(InstanceRow.finding_id)
            .subquery()
        )
        query = (
            select(FindingTypeRow.group_name, FindingTypeRow.group_order, effective_severity, per_finding.c.active)
            .select_from(per_finding)
            .join(FindingRow, per_finding.c.finding_id == FindingRow.id)
            .join(FindingTypeRow, FindingRow.finding_type_id == FindingTypeRow.id)
            .where(FindingRow.status == FindingStatus.ACTIVE)
        )
        if integration_id is not None:
            query = query.where(FindingRow.integration_id == integration_id)
        by_severity = {s.label.lower(): 0 for s in sorted(Severity, reverse=True)}
        groups: dict[tuple[int, str], dict[str, int]] = {}
        with self._session() as session:
            for group, order, level, count in session.execute(query):
                label = Severity(level).label.lower()
                by_severity[label] += int(count)
                bucket = groups.setdefault((order, group), {s: 0 for s in by_severity})
                bucket[label] += int(count)
        ordered = [(group, counts) for (_order, group), counts in sorted(groups.items())]
        return Overview(by_severity, ordered, sum(by_severity.values()))

    def assets(self, kind: str | None, search: str | None, limit: int,
               offset: int) -> tuple[list[tuple[AssetRow, int]], int]:
        """Assets with the number of their active instances."""
        conditions: list[ColumnElement[bool]] = []
        if kind:
            conditions.append(AssetRow.kind == kind)
        text = (search or "").strip()
        if text:
            conditions.append(or_(AssetRow.name.icontains(text, autoescape=True),
                                  AssetRow.email.icontains(text, autoescape=True),
                                  AssetRow.external_id.icontains(text, autoescape=True)))
        active = (
            select(func.count()).where(InstanceRow.asset_id == AssetRow.id,
                                       status_condition([InstanceStatus.ACTIVE], self._clock()))
            .correlate(AssetRow).scalar_subquery()
        )
        page = select(AssetRow, active).where(*conditions).order_by(AssetRow.id.desc()).limit(limit).offset(offset)
        with self._session() as session:
            total = int(session.execute(select(func.count()).select_from(AssetRow).where(*conditions)).scalar_one())
            rows = [(asset, int(count)) for asset, count in session.execute(page)]
        return rows, total

    def scan(self, scan_id: int) -> ScanRecord | None:
        with self._session() as session:
            row = session.execute(
                select(ScanRow, IntegrationRow.display_name).join(IntegrationRow).where(ScanRow.id == scan_id)
            ).first()
            return scan_record(row[0], row[1]) if row is not None else None

    def count_scans(self, integration_id: int | None) -> int:
        query = select(func.count()).select_from(ScanRow)
        if integration_id is not None:
            query = query.where(ScanRow.integration_id == integration_id)
        with self._session() as session:
            return int(session.execute(query).scalar_one())

    def latest_scans(self) -> dict[int, ScanRecord]:
        """The newest scan of each integration."""
        newest = select(func.max(ScanRow.id)).group_by(ScanRow.integration_id)
        query = select(ScanRow, IntegrationRow.display_name).join(IntegrationRow).where(ScanRow.id.in_(newest))
        with self._session() as session:
            return {scan.integration_id: scan_record(scan, name) for scan, name in session.execute(query)}

    def asset_kinds(self) -> list[str]:
        with self._session() as session:
            return sorted(session.scalars(select(AssetRow.kind).distinct()))

    def groups(self) -> list[str]:
        with self._session() as session:
            rows = session.execute(select(FindingTypeRow.group_name, FindingTypeRow.group_order).distinct())
            return [name for name, _order in sorted(rows, key=lambda row: (row[1], row[0]))]


def _instance_row(instance: InstanceRow, finding: FindingRow, ftype: FindingTypeRow, asset: AssetRow, level: int,
                  integration_name: str, *, now: datetime) -> InstanceRowView:
    shown = ShownHide.of(instance.status, instance.hidden_by, instance.hidden_reason, instance.hidden_until, now)
    return InstanceRowView(
        id=instance.id, integration_id=finding.integration_id, integration_name=integration_name,
        finding_type_id=ftype.id, finding_type=ftype.name, group=ftype.group_name, severity=Severity(level),
        finding_status=finding.status, status=str(shown.status), asset_kind=asset.kind, asset_id=asset.external_id,
        asset_name=asset.name, asset_email=asset.email, evidence=dict(instance.evidence or {}),
        first_detected=instance.first_detected, last_detected=instance.last_detected,
        hidden_reason=shown.hidden_reason, hidden_by=shown.hidden_by,
    )


def parse_severities(values: Sequence[str]) -> tuple[Severity, ...]:
    return tuple(Severity.parse(value) for value in values if value.strip())
