"""Builds export records from the store (instances, events) and the checks registry (metadata).

The only module of `exports` that knows the store; the formatters never do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from openai_casb import __version__
from openai_casb.checks.base import CATALOG_VERSION, CheckMetadata
from openai_casb.checks.registry import CheckRegistry, default_registry
from openai_casb.detections import AssetRef, Severity
from openai_casb.exports.model import (
    EventType,
    ExportFinding,
    ExportFindingType,
    ExportInstance,
    ExportIntegration,
    ExportRemediation,
    ExportReport,
    LifecycleEvent,
)
from openai_casb.inventory.model import AssetKind
from openai_casb.store import EventRecord, InstanceStatus, InstanceView, Integration, Store

_PAGE = 1000


@dataclass(frozen=True, slots=True)
class ExportFilters:
    """The filters of `openai-casb findings`: None means "any"."""

    integration_id: int | None = None
    statuses: tuple[str, ...] | None = (InstanceStatus.ACTIVE.value,)
    severity_min: Severity | None = None
    finding_type_id: str | None = None

    def describe(self) -> dict[str, str]:
        shown = {"status": ",".join(self.statuses) if self.statuses else "all"}
        if self.severity_min is not None:
            shown["severity"] = f">= {self.severity_min.label}"
        if self.finding_type_id:
            shown["type"] = self.finding_type_id
        if self.integration_id is not None:
            shown["integration"] = str(self.integration_id)
        return shown


def export_finding_type(metadata: CheckMetadata) -> ExportFindingType:
    remediation = metadata.remediation
    return ExportFindingType(
        id=metadata.id,
        name=metadata.name,
        severity=metadata.severity,
        group=metadata.group.value,
        group_order=metadata.group.order,
        enterprise=metadata.enterprise,
        asset_kind=metadata.asset_kind,
        description=metadata.description,
        risk=metadata.risk,
        remediation=ExportRemediation(
            console_url=str(remediation.console_url),
            steps=remediation.steps,
            api_calls=remediation.api_calls,
            notes=remediation.notes,
        ),
        references=tuple(str(reference) for reference in metadata.references),
    )


def _integration(integration: Integration) -> ExportIntegration:
    return ExportIntegration(id=str(integration.id), display_name=integration.display_name)


def _asset(view: InstanceView) -> AssetRef:
    return AssetRef(
        kind=AssetKind(view.asset_kind),
        id=view.asset_id,
        name=view.asset_name,
        email=view.asset_email,
        link=view.asset_link,
    )


def _instances(store: Store, filters: ExportFilters) -> Iterator[InstanceView]:
    offset = 0
    while True:
        page = store.list_instances(
            integration_id=filters.integration_id,
            status=filters.statuses,
            severity_min=filters.severity_min,
            finding_type=filters.finding_type_id,
            limit=_PAGE,
            offset=offset,
        )
        yield from page
        if len(page) < _PAGE:
            return
        offset += len(page)


def _latest_scan_ids(store: Store, integrations: list[Integration]) -> dict[int, int]:
    latest: dict[int, int] = {}
    for integration in integrations:
        scans = store.list_scans(integration.id, limit=1)
        if scans:
            latest[integration.id] = scans[0].id
    return latest


def build_report(
    store: Store,
    filters: ExportFilters,
    registry: CheckRegistry | None = None,
    generated_at: datetime | None = None,
) -> ExportReport:
    """Current findings matching `filters`, with the catalog's metadata for each finding type."""
    registry = registry or default_registry()
    integrations = store.integrations()
    by_id = {integration.id: integration for integration in integrations}
    latest = _latest_scan_ids(store, integrations)
    grouped: dict[tuple[int, str], list[InstanceView]] = {}
    for view in _instances(store, filters):
        grouped.setdefault((view.integration_id, view.finding_type_id), []).append(view)
    findings = []
    for (integration_id, type_id), views in grouped.items():
        instances = tuple(
            ExportInstance(
                instance_id=str(view.id),
                status=InstanceStatus(view.status).value,
                asset=_asset(view),
                evidence=view.evidence,
                first_detected=view.first_detected,
                last_detected=view.last_detected,
                resolved_at=view.resolved_at,
                is_new=view.new_in_scan_id is not None and view.new_in_scan_id == latest.get(integration_id),
                hidden_reason=view.hidden_reason,
            )
            for view in views
        )
        findings.append(
            ExportFinding(
                integration=_integration(by_id[integration_id]),
                finding_type=export_finding_type(registry.get(type_id).metadata),
                severity=views[0].severity,
                instances=instances,
                ignored=str(views[0].finding_status) == "ignored",
            )
        )
    shown = [i for i in integrations if filters.integration_id in (None, i.id)]
    return ExportReport(
        generated_at=generated_at or datetime.now(UTC),
        catalog_version=CATALOG_VERSION,
        product_version=__version__,
        findings=tuple(findings),
        integrations=tuple(_integration(i) for i in shown),
        filters=filters.describe(),
    )


def build_events(
    store: Store,
    since_scan_id: int | None = None,
    integration_id: int | None = None,
    registry: CheckRegistry | None = None,
) -> list[LifecycleEvent]:
    """Lifecycle events in the order they happened, each with its instance's finding type and asset."""
    return EventBuilder(store, registry).build(store.events(since_scan_id, integration_id=integration_id))


class EventBuilder:
    """Store event records as `LifecycleEvent`s, each instance read once (exports, webhooks)."""

    def __init__(self, store: Store, registry: CheckRegistry | None = None) -> None:
        self._store = store
        self._registry = registry or default_registry()
        self._integrations = {i.id: i for i in store.integrations()}
        self._views: dict[int, InstanceView] = {}

    def build(self, records: Iterable[EventRecord]) -> list[LifecycleEvent]:
        return [self._event(record) for record in records]

    def _event(self, record: EventRecord) -> LifecycleEvent:
        view = self._views.get(record.instance_id)
        if view is None:
            view = self._views[record.instance_id] = self._store.get_instance(record.instance_id).instance
        integration = self._integrations.get(view.integration_id)
        if integration is None:  # added after this builder began (a long webhook dispatch)
            self._integrations = {i.id: i for i in self._store.integrations()}
            integration = self._integrations[view.integration_id]
        return lifecycle_event(record, view, self._registry, integration)


def lifecycle_event(record: EventRecord, view: InstanceView, registry: CheckRegistry,
                    integration: Integration) -> LifecycleEvent:
    """One stored event with its instance's finding type and asset, as exports and webhooks send it."""
    check = registry.resolve(view.finding_type_id)
    return LifecycleEvent(
        event_id=str(record.id),
        event_type=EventType(str(record.event_type)),
        event_time=record.at,
        instance_id=str(view.id),
        finding_type_id=view.finding_type_id,
        finding_type_name=check.metadata.name if check else view.finding_type,
        severity=view.severity,
        asset=_asset(view),
        detected_at=view.first_detected,
        integration=_integration(integration),
        scan_id=str(record.scan_id) if record.scan_id is not None else None,
        evidence=view.evidence,
    )
