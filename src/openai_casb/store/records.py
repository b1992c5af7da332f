"""What the store returns and accepts: plain frozen records, detached from any database session."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from openai_casb.detections import Severity


class StoreError(Exception):
    """A problem the user can act on (bad URL, unknown id, refused write). The message says what to do."""


class NotFoundError(StoreError):
    pass


class ScanRunningError(StoreError):
    """A scan of this integration is running (its heartbeat is fresh): one scan of an integration at a time."""

    def __init__(self, integration_id: int, integration_name: str, scan_id: int, started_at: datetime,
                 heartbeat_at: datetime, stale_after: timedelta, now: datetime) -> None:
        age = max(0, int((now - heartbeat_at).total_seconds()))
        super().__init__(
            f"a scan of {integration_name} is running (scan {scan_id}, started "
            f"{started_at:%Y-%m-%d %H:%M:%S} UTC, last heartbeat {age} s ago); wait for it to finish "
            f"(a scan whose process died counts as dead {int(stale_after.total_seconds())} s after its last heartbeat)"
        )
        self.integration_id = integration_id
        self.scan_id = scan_id
        self.started_at = started_at
        self.heartbeat_at = heartbeat_at


class ScanNotRunningError(StoreError):
    """The scan is no longer running (finished, failed, or interrupted as dead): its results cannot be stored."""


class SecretInDataError(StoreError):
    """Refused to write something that looks like a full, unredacted API key."""


class ScanStatus(StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class InstanceStatus(StrEnum):
    ACTIVE = "active"
    HIDDEN = "hidden"
    RESOLVED = "resolved"


class FindingStatus(StrEnum):
    ACTIVE = "active"
    IGNORED = "ignored"


class EventType(StrEnum):
    DETECTED = "detected"
    REOPENED = "reopened"
    RESOLVED = "resolved"
    HIDDEN = "hidden"
    UNHIDDEN = "unhidden"


MUTELIST = "mutelist"  # `hidden_by` of instances hidden by a mutelist rule rather than a person


@dataclass(frozen=True, slots=True)
class MuteRule:
    """A mutelist rule that matched a detection: hide it with this reason until `expires_at` (if any)."""

    reason: str
    expires_at: datetime | None = None


# (finding type id, asset kind, asset external id) -> the rule muting it, if any.
MuteKey = tuple[str, str, str]
MuteRules = Mapping[MuteKey, MuteRule | None] | Callable[[MuteKey], MuteRule | None]


@dataclass(frozen=True, slots=True)
class Integration:
    id: int
    organization_id: str | None
    workspace_id: str | None
    display_name: str


@dataclass(frozen=True, slots=True)
class FindingTypeRecord:
    id: str
    name: str
    severity: Severity
    enterprise: bool
    group: str
    group_order: int


@dataclass(frozen=True, slots=True)
class ScanSummary:
    scan_id: int
    status: ScanStatus
    new: int
    reopened: int
    resolved: int
    detected: int
    severity_counts: dict[str, int] = field(default_factory=dict)  # open instances after the scan, by severity label
    incomplete_sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScanRecord:
    id: int
    integration_id: int
    integration_name: str
    started_at: datetime
    finished_at: datetime | None
    status: ScanStatus
    source_reports: list[dict[str, Any]]
    errors: list[str]
    severity_counts: dict[str, int]
    new: int
    reopened: int
    resolved: int
    high_water_mark: float | None


@dataclass(frozen=True, slots=True)
class InstanceView:
    """One instance with everything a list or detail view shows."""

    id: int
    integration_id: int
    finding_type_id: str
    finding_type: str
    severity: Severity  # effective: the finding's override, else the type's default
    default_severity: Severity
    group: str
    group_order: int
    finding_status: FindingStatus
    status: InstanceStatus
    asset_kind: str
    asset_id: str
    asset_name: str | None
    asset_email: str | None
    asset_link: str | None
    asset_metadata: dict[str, Any]
    evidence: dict[str, Any]
    first_detected: datetime
    last_detected: datetime
    resolved_at: datetime | None
    hidden_reason: str | None
    hidden_by: str | None
    hidden_until: datetime | None
    new_in_scan_id: int | None


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: int
    instance_id: int
    scan_id: int | None
    event_type: EventType
    at: datetime
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class InstanceDetail:
    instance: InstanceView
    events: list[EventRecord]
