"""Store records -> API models."""

from __future__ import annotations

from typing import Any, Literal, cast

from openai_casb.checks import CheckMetadata
from openai_casb.detections import Severity
from openai_casb.store import InstanceDetail, InstanceStatus, Integration, ScanRecord
from openai_casb.web.api import schemas
from openai_casb.web.queries import FindingSummary, InstanceRowView
from openai_casb.web.scan_launcher import Progress

# A `status` query value: an instance status, or `all` for every status (as `--status all` in the CLI).
StatusFilter = InstanceStatus | Literal["all"]


def statuses_of(status: list[StatusFilter] | None) -> tuple[InstanceStatus, ...]:
    """The instance statuses a repeatable `status` filter asks for: `active` when absent, every
    status when one of them is `all`."""
    if not status:
        return (InstanceStatus.ACTIVE,)
    if "all" in status:
        return tuple(InstanceStatus)
    return tuple(InstanceStatus(s) for s in status)


def severity_name(level: Severity) -> schemas.SeverityName:
    return cast(schemas.SeverityName, level.label.lower())


def integration_out(integration: Integration, has_credentials: bool) -> schemas.IntegrationOut:
    return schemas.IntegrationOut(id=integration.id, display_name=integration.display_name,
                                  organization_id=integration.organization_id,
                                  workspace_id=integration.workspace_id, has_credentials=has_credentials)


def sources_of(reports: list[dict[str, Any]]) -> list[schemas.SourceHealth]:
    return [
        schemas.SourceHealth(source=str(report.get("source", "?")), state=str(report.get("state", "?")),
                             reason=report.get("reason"))
        for report in reports
    ]


def scan_out(scan: ScanRecord, progress: Progress | None) -> schemas.ScanOut:
    return schemas.ScanOut(
        id=scan.id, integration_id=scan.integration_id, integration_name=scan.integration_name,
        status=str(scan.status), started_at=scan.started_at, finished_at=scan.finished_at, new=scan.new,
        reopened=scan.reopened, resolved=scan.resolved, severity_counts=scan.severity_counts, errors=scan.errors,
        sources=sources_of(scan.source_reports),
        progress=schemas.ScanProgressOut(stage=progress.stage, done=progress.done, total=progress.total,
                                         message=progress.message) if progress else None,
    )


def finding_type_out(metadata: CheckMetadata) -> schemas.FindingTypeOut:
    remediation = metadata.remediation
    return schemas.FindingTypeOut(
        id=metadata.id, name=metadata.name, severity=severity_name(metadata.severity),
        enterprise=metadata.enterprise, group=metadata.group.value, asset_kind=str(metadata.asset_kind),
        description=metadata.description, risk=metadata.risk,
        remediation=schemas.RemediationOut(console_url=str(remediation.console_url), steps=list(remediation.steps),
                                           api_calls=list(remediation.api_calls), notes=list(remediation.notes)),
        references=[str(url) for url in metadata.references],
    )


def finding_out(summary: FindingSummary) -> schemas.FindingOut:
    return schemas.FindingOut(
        integration_id=summary.integration_id, integration_name=summary.integration_name,
        finding_type_id=summary.finding_type_id, finding_type=summary.finding_type, group=summary.group,
        severity=severity_name(summary.severity), default_severity=severity_name(summary.default_severity),
        ignored=summary.finding_status == "ignored", active=summary.active, hidden=summary.hidden,
        resolved=summary.resolved,
    )


def instance_out(row: InstanceRowView) -> schemas.InstanceOut:
    return schemas.InstanceOut(
        id=row.id, integration_id=row.integration_id, finding_type_id=row.finding_type_id,
        finding_type=row.finding_type, group=row.group, severity=severity_name(row.severity),
        ignored=row.finding_status == "ignored", status=row.status, asset_kind=row.asset_kind, asset_id=row.asset_id,
        asset_name=row.asset_name, asset_email=row.asset_email, evidence=row.evidence,
        first_detected=row.first_detected, last_detected=row.last_detected, hidden_reason=row.hidden_reason,
        hidden_by=row.hidden_by,
    )


def instance_detail_out(detail: InstanceDetail) -> schemas.InstanceDetailOut:
    view = detail.instance
    return schemas.InstanceDetailOut(
        id=view.id, integration_id=view.integration_id, finding_type_id=view.finding_type_id,
        finding_type=view.finding_type, group=view.group, severity=severity_name(view.severity),
        ignored=str(view.finding_status) == "ignored", status=str(view.status), asset_kind=view.asset_kind,
        asset_id=view.asset_id, asset_name=view.asset_name, asset_email=view.asset_email, evidence=view.evidence,
        first_detected=view.first_detected, last_detected=view.last_detected, hidden_reason=view.hidden_reason,
        hidden_by=view.hidden_by, asset_link=view.asset_link, resolved_at=view.resolved_at,
        hidden_until=view.hidden_until,
        events=[schemas.EventOut(id=e.id, scan_id=e.scan_id, event_type=str(e.event_type), at=e.at,
                                 details=e.details) for e in detail.events],
    )
