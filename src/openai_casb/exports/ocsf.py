# py-ocsf-models ships no py.typed marker; its models are pydantic and validate at run time.
# mypy: disable-error-code="import-untyped"
"""OCSF export, built with py-ocsf-models (Prowler's OCSF pydantic models).

Posture instances become Compliance Findings (class_uid 2003), DLP instances (conversation, GPT
and project files) Data Security Findings (class_uid 2006). py-ocsf-models has no class for
2006 yet, so `DataSecurityFinding` extends the library's generic `Finding` with that class's
identifiers and its `data_security` and `file` objects; everything else comes from the library.
OCSF's Data Security Finding has no `remediation` attribute, so DLP events carry the guidance
under `unmapped.remediation` (validated against the vendored OCSF schema in tests).

Lifecycle -> OCSF status_id (set by the consumer of a finding, per OCSF):
  new (first seen by the latest scan) -> 1 New; active -> 2 In Progress;
  hidden -> 3 Suppressed; resolved -> 4 Resolved. An open (not resolved) instance of an ignored
  finding type is 3 Suppressed too, with `status_detail` saying why.
activity_id: new -> 1 Create, resolved -> 3 Close, otherwise 2 Update.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from py_ocsf_models.events.findings.activity_id import ActivityID
from py_ocsf_models.events.findings.category_uid import CategoryUID
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.events.findings.compliance_finding_type_id import ComplianceFindingTypeID
from py_ocsf_models.events.findings.finding import Finding
from py_ocsf_models.events.findings.severity_id import SeverityID
from py_ocsf_models.events.findings.status_id import StatusID
from py_ocsf_models.objects.compliance import Compliance
from py_ocsf_models.objects.compliance_status import StatusID as ComplianceStatusID
from py_ocsf_models.objects.finding_info import FindingInformation
from py_ocsf_models.objects.metadata import Metadata
from py_ocsf_models.objects.product import Product
from py_ocsf_models.objects.remediation import Remediation
from py_ocsf_models.objects.resource_details import ResourceDetails
from pydantic import BaseModel, ConfigDict

from openai_casb.detections import Severity
from openai_casb.exports.common import plain_evidence
from openai_casb.exports.model import (
    IGNORED_JUSTIFICATION,
    ExportFinding,
    ExportInstance,
    ExportReport,
    epoch_ms,
    iso,
)
from openai_casb.exports.stream import iter_json_array

COMPLIANCE_FINDING_CLASS_UID = 2003
DATA_SECURITY_FINDING_CLASS_UID = 2006
PRODUCT_NAME = "openai-casb"
VENDOR_NAME = "openai-casb project"

_SEVERITY_IDS = {
    Severity.INFO: SeverityID.Informational,
    Severity.LOW: SeverityID.Low,
    Severity.MEDIUM: SeverityID.Medium,
    Severity.HIGH: SeverityID.High,
    Severity.CRITICAL: SeverityID.Critical,
}


class DataSecurity(BaseModel):
    """OCSF `data_security` object: what the DLP detection matched (profile names, never values)."""

    model_config = ConfigDict(extra="forbid")

    detection_pattern: str | None = None
    detection_system: str | None = None
    detection_system_id: int | None = None
    policy_name: str | None = None  # unused by OCSF consumers we target; kept None


class OcsfFile(BaseModel):
    """OCSF `file` object, the fields a DLP instance knows."""

    model_config = ConfigDict(extra="forbid")

    name: str
    uid: str
    type_id: int = 1  # Regular File
    type: str = "Regular File"


class DataSecurityFinding(Finding):  # type: ignore[misc]  # Finding is untyped (no py.typed)
    """OCSF Data Security Finding (class_uid 2006) on top of the library's generic `Finding`."""

    category_name: str = CategoryUID.Findings.name
    category_uid: int = CategoryUID.Findings.value
    class_name: str = "Data Security Finding"
    class_uid: int = DATA_SECURITY_FINDING_CLASS_UID
    data_security: DataSecurity | None = None
    file: OcsfFile | None = None
    resources: list[ResourceDetails] | None = None
    time: int
    time_dt: Any = None
    type_uid: int
    type_name: str | None = None


def ocsf_status(instance: ExportInstance, ignored: bool = False) -> StatusID:
    if instance.status == "resolved":
        return StatusID.Resolved
    if instance.status == "hidden" or ignored:
        return StatusID.Suppressed
    return StatusID.New if instance.is_new else StatusID.InProgress


def _activity(instance: ExportInstance) -> ActivityID:
    if instance.status == "resolved":
        return ActivityID.Close
    return ActivityID.Create if instance.is_new else ActivityID.Update


def event_uid(finding: ExportFinding, instance: ExportInstance) -> str:
    """`metadata.uid`: the same for the same state of an instance, new whenever that state changes.

    SIEMs de-duplicate events on it. A resolve or a hide leaves `last_detected` as it was, so the
    uid also carries a digest of what the event says about the instance (status, activity,
    severity, resolution time, ignored), else the Resolved or Suppressed event would be dropped as
    a repeat of the earlier one.
    """
    state = "|".join(
        str(part)
        for part in (
            instance.status,
            instance.is_new,
            iso(instance.resolved_at),
            finding.severity.label,
            finding.ignored,
            instance.hidden_reason or "",
        )
    )
    digest = hashlib.sha256(state.encode("utf-8")).hexdigest()[:12]
    return f"{instance.instance_id}:{iso(instance.last_detected)}:{digest}"


def _metadata(report: ExportReport, finding: ExportFinding, instance: ExportInstance) -> Metadata:
    product = Product(name=PRODUCT_NAME, vendor_name=VENDOR_NAME, version=report.product_version)
    return Metadata(
        product=product,
        uid=event_uid(finding, instance),
        correlation_uid=instance.instance_id,
        event_code=finding.finding_type.id,
        labels=[finding.finding_type.group, f"catalog:{report.catalog_version}"],
        tenant_uid=finding.integration.id,
    )


def _finding_info(finding: ExportFinding, instance: ExportInstance) -> FindingInformation:
    finding_type = finding.finding_type
    return FindingInformation(
        uid=instance.instance_id,
        title=finding_type.name,
        desc=finding_type.description,
        types=[finding_type.group],
        first_seen_time=epoch_ms(instance.first_detected),
        last_seen_time=epoch_ms(instance.last_detected),
        src_url=instance.asset.link,
    )


def _resource(finding: ExportFinding, instance: ExportInstance) -> ResourceDetails:
    asset = instance.asset
    data: dict[str, object] = {"evidence": plain_evidence(instance.evidence)}
    if asset.email:
        data["owner_email"] = asset.email
    if asset.link:
        data["link"] = asset.link
    return ResourceDetails(
        uid=asset.id,
        name=asset.name,
        type=asset.kind.value,
        namespace=finding.integration.id,
        labels=[finding.integration.display_name],
        data=data,
    )


def _remediation(finding: ExportFinding) -> Remediation:
    finding_type = finding.finding_type
    return Remediation(
        desc=finding_type.remediation.as_text(),
        references=[finding_type.remediation.console_url, *finding_type.references],
    )


def _common(report: ExportReport, finding: ExportFinding, instance: ExportInstance, class_uid: int) -> dict[str, Any]:
    activity = _activity(instance)
    status = ocsf_status(instance, finding.ignored)
    severity = _SEVERITY_IDS[finding.severity]
    fields: dict[str, Any] = {
        "metadata": _metadata(report, finding, instance),
        "activity_id": activity,
        "activity_name": activity.name,
        "severity_id": severity,
        "severity": severity.name,
        "status_id": status,
        "status": "In Progress" if status is StatusID.InProgress else status.name,
        "message": f"{finding.finding_type.name}: {instance.asset.name or instance.asset.id}",
        "finding_info": _finding_info(finding, instance),
        "remediation": _remediation(finding),
        "resources": [_resource(finding, instance)],
        "time": epoch_ms(instance.last_detected),
        "type_uid": class_uid * 100 + activity.value,
        "start_time": epoch_ms(instance.first_detected),
        "end_time": epoch_ms(instance.resolved_at or instance.last_detected),
    }
    if finding.ignored and status is StatusID.Suppressed:
        fields["status_detail"] = IGNORED_JUSTIFICATION
    return fields


def build_ocsf_event(report: ExportReport, finding: ExportFinding, instance: ExportInstance) -> BaseModel:
    """The validated OCSF model of one instance."""
    if finding.finding_type.is_dlp:
        profiles = instance.evidence.get("matched_profiles") or instance.evidence.get("profiles") or ()
        fields = _common(report, finding, instance, DATA_SECURITY_FINDING_CLASS_UID)
        fields["type_name"] = f"Data Security Finding: {fields['activity_name']}"
        remediation: Remediation = fields.pop("remediation")
        fields["unmapped"] = {"remediation": remediation.model_dump(mode="json", exclude_none=True)}
        return DataSecurityFinding(
            **fields,
            data_security=DataSecurity(
                detection_pattern=", ".join(str(p) for p in profiles) or None,
                detection_system="Cloud Access Security Broker",
                detection_system_id=8,  # OCSF's own code for a CASB, which openai-casb is
            ),
            file=OcsfFile(name=instance.asset.name or instance.asset.id, uid=instance.asset.id),
        )
    fields = _common(report, finding, instance, COMPLIANCE_FINDING_CLASS_UID)
    fields["type_uid"] = ComplianceFindingTypeID(fields["type_uid"])
    fields["type_name"] = f"Compliance Finding: {fields['activity_name']}"
    failing = instance.status != "resolved"
    event: BaseModel = ComplianceFinding(
        **fields,
        class_name="Compliance Finding",
        compliance=Compliance(
            control=finding.finding_type.name,
            desc=finding.finding_type.risk,
            standards=[f"openai-casb catalog {report.catalog_version}"],
            status_id=ComplianceStatusID.Fail if failing else ComplianceStatusID.Pass,
        ),
    )
    return event


def build_ocsf(report: ExportReport) -> list[dict[str, Any]]:
    """Every instance as an OCSF event dict (None-valued attributes left out)."""
    return [
        build_ocsf_event(report, finding, instance).model_dump(mode="json", exclude_none=True)
        for finding, instance in report.instance_rows()
    ]


def iter_ocsf(report: ExportReport) -> Iterator[str]:
    """The OCSF export in chunks, one event each (see `exports.stream`)."""
    events = (
        build_ocsf_event(report, finding, instance).model_dump(mode="json", exclude_none=True)
        for finding, instance in report.iter_instance_rows()
    )
    return iter_json_array(events, "OCSF export")


def render_ocsf(report: ExportReport) -> str:
    return "".join(iter_ocsf(report))
