"""Neutral, typed records that every export format and the event stream are rendered from.

Built from plain values (see `exports.source` for the store-backed builder), so that every
formatter is a pure function of these records and can be golden-tested with fixed fixtures.
Evidence arrives already masked (`redaction.mask_value` / `redact_key`); formatters still run
their output through `exports.safety.ensure_no_plain_secrets`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from openai_casb.detections import AssetRef, Severity
from openai_casb.inventory.model import AssetKind

InstanceStatus = Literal["active", "hidden", "resolved"]
INSTANCE_STATUSES: tuple[InstanceStatus, ...] = ("active", "hidden", "resolved")

DLP_ASSET_KINDS = frozenset({AssetKind.CONVERSATION_FILE, AssetKind.GPT_FILE, AssetKind.PROJECT_FILE})


class EventType(StrEnum):
    """A change in an instance's lifecycle, as the store records it."""

    DETECTED = "detected"
    REOPENED = "reopened"
    RESOLVED = "resolved"
    HIDDEN = "hidden"
    UNHIDDEN = "unhidden"


@dataclass(frozen=True, slots=True)
class ExportIntegration:
    id: str
    display_name: str


@dataclass(frozen=True, slots=True)
class ExportRemediation:
    console_url: str
    steps: tuple[str, ...]
    api_calls: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def as_text(self) -> str:
        """Plain-text guidance: numbered steps, then the console page."""
        lines = [f"{number}. {step}" for number, step in enumerate(self.steps, start=1)]
        lines.append(f"Console: {self.console_url}")
        lines.extend(f"Note: {note}" for note in self.notes)
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class ExportFindingType:
    """A finding type's catalog metadata, as exports show it."""

    id: str
    name: str
    severity: Severity  # catalog default; a finding may override it
    group: str
    group_order: int
    enterprise: bool
    asset_kind: AssetKind
    description: str
    risk: str
    remediation: ExportRemediation
    references: tuple[str, ...] = ()

    @property
    def is_dlp(self) -> bool:
        return self.asset_kind in DLP_ASSET_KINDS


@dataclass(frozen=True, slots=True)
class ExportInstance:
    """One (finding, asset) with its lifecycle. `evidence` is already masked."""

    instance_id: str
    status: InstanceStatus
    asset: AssetRef
    evidence: Mapping[str, Any]
    first_detected: datetime
    last_detected: datetime
    resolved_at: datetime | None = None
    is_new: bool = False  # first seen by the latest scan
    hidden_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ExportFinding:
    """A finding is (integration, finding type); `severity` is the effective (possibly overridden) one."""

    integration: ExportIntegration
    finding_type: ExportFindingType
    severity: Severity
    instances: tuple[ExportInstance, ...]
    ignored: bool = False  # `openai-casb ignore TYPE`: still evaluated, listed apart, never counted as open

    @property
    def finding_status(self) -> str:
        """`active` or `ignored`, as `openai-casb findings --format json` names it."""
        return "ignored" if self.ignored else "active"

    def sorted_instances(self) -> list[ExportInstance]:
        """By asset name (case-insensitive), then asset id."""
        return sorted(self.instances, key=lambda i: ((i.asset.name or "").lower(), i.asset.id))


@dataclass(frozen=True, slots=True)
class ExportReport:
    generated_at: datetime
    catalog_version: str
    product_version: str
    findings: tuple[ExportFinding, ...]
    integrations: tuple[ExportIntegration, ...] = ()
    filters: Mapping[str, str] = field(default_factory=dict)  # shown in reports, e.g. {"status": "active"}

    def ordered_findings(self) -> list[ExportFinding]:
        """Group order, then severity (highest first), then name: the catalog's display order."""
        return sorted(
            self.findings,
            key=lambda f: (f.finding_type.group_order, -f.severity, f.finding_type.name, f.integration.id),
        )

    def open_findings(self) -> list[ExportFinding]:
        """Findings of types not ignored, in display order."""
        return [finding for finding in self.ordered_findings() if not finding.ignored]

    def ignored_findings(self) -> list[ExportFinding]:
        """Findings of ignored types, in display order: reports list them apart."""
        return [finding for finding in self.ordered_findings() if finding.ignored]

    def instance_rows(self) -> list[tuple[ExportFinding, ExportInstance]]:
        """Every instance with its finding, in display order."""
        return [(finding, instance) for finding in self.ordered_findings() for instance in finding.sorted_instances()]

    def iter_instance_rows(self) -> Iterator[tuple[ExportFinding, ExportInstance]]:
        """`instance_rows()` one at a time: holds one finding's sorted instances, not every row."""
        for finding in self.ordered_findings():
            for instance in finding.sorted_instances():
                yield finding, instance


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """One lifecycle change of one instance. `event_id` is stable: the webhooks' idempotency key."""

    event_id: str
    event_type: EventType
    event_time: datetime
    instance_id: str
    finding_type_id: str
    finding_type_name: str
    severity: Severity
    asset: AssetRef
    detected_at: datetime  # the instance's first detection
    integration: ExportIntegration
    scan_id: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)


def iso(moment: datetime | None) -> str | None:
    """RFC 3339 UTC with a `Z`, seconds precision; naive datetimes are taken as UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


IGNORED_JUSTIFICATION = "finding type ignored in openai-casb (openai-casb ignore TYPE); still evaluated"


def status_label(instance: ExportInstance) -> str:
    """`new` for an active instance first seen by the latest scan, else the lifecycle status."""
    return "new" if instance.status == "active" and instance.is_new else instance.status
