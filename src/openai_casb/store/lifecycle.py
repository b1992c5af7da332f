"""Applying one scan's detections to the stored findings: the lifecycle of docs/lifecycle.md.

Everything here runs inside the one transaction of `Store.finish_scan`; the caller commits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openai_casb.detections import Detection, Severity
from openai_casb.inventory.model import SourceReport
from openai_casb.store.guard import refuse_secrets
from openai_casb.store.records import (
    MUTELIST,
    EventType,
    FindingStatus,
    InstanceStatus,
    MuteKey,
    MuteRule,
    MuteRules,
    ScanStatus,
    ScanSummary,
)
from openai_casb.store.schema import (
    AssetRow,
    EventRow,
    FindingRow,
    FindingTypeRow,
    InstanceRow,
    ScanRow,
    UserActivityRow,
)

FINISHED_STATUSES = (ScanStatus.COMPLETE, ScanStatus.PARTIAL, ScanStatus.FAILED)


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """Everything a scan hands to the store besides its detections."""

    evaluated_type_ids: frozenset[str]
    complete_type_ids: frozenset[str]
    source_reports: Sequence[SourceReport]
    status: ScanStatus
    errors: Sequence[str]
    high_water_mark: float | None
    user_activity: Mapping[str, datetime]
    now: datetime


def _rule_lookup(mute_rules: MuteRules | None, key: MuteKey) -> MuteRule | None:
    if mute_rules is None:
        return None
    if callable(mute_rules):
        return mute_rules(key)
    return mute_rules.get(key)


def _unique_detections(detections: Iterable[Detection]) -> dict[MuteKey, Detection]:
    unique: dict[MuteKey, Detection] = {}
    for detection in detections:
        key = (detection.finding_type_id, str(detection.asset.kind), detection.asset.id)
        unique[key] = detection  # the same (type, asset) twice in one scan is one instance
    return unique


def _validate(session: Session, detections: Mapping[MuteKey, Detection], outcome: ScanOutcome) -> dict[str, int]:
    if outcome.status not in FINISHED_STATUSES:
        raise ValueError(f"finish_scan status must be complete, partial or failed, not {outcome.status!r}")
    if not outcome.complete_type_ids <= outcome.evaluated_type_ids:
        extra = sorted(outcome.complete_type_ids - outcome.evaluated_type_ids)
        raise ValueError(f"complete_type_ids must be evaluated too: {extra}")
    known = {row.id: row.severity for row in session.scalars(select(FindingTypeRow))}
    unknown = sorted(outcome.evaluated_type_ids - known.keys())
    if unknown:
        raise ValueError(f"unknown finding types {unknown}; call sync_finding_types first")
    for (type_id, kind, asset_id), detection in detections.items():
        if type_id not in outcome.evaluated_type_ids:
            raise ValueError(f"detection of finding type {type_id} which the scan did not list as evaluated")
        asset = detection.asset
        refuse_secrets(
            f"the detection {type_id} on {kind} {asset_id}",
            asset_id,
            detection.evidence,
            asset.name,
            asset.email,
            asset.link,
            asset.metadata,
        )
    refuse_secrets("the scan's errors or source reports", list(outcome.errors),
                   [report.reason for report in outcome.source_reports])
    return known


def apply_scan(
    session: Session,
    scan: ScanRow,
    detections_in: Iterable[Detection],
    mute_rules: MuteRules | None,
    outcome: ScanOutcome,
) -> ScanSummary:
    detections = _unique_detections(detections_in)
    default_severity = _validate(session, detections, outcome)
    now = outcome.now
    integration_id = scan.integration_id

    findings = {
        row.finding_type_id: row
        for row in session.scalars(select(FindingRow).where(FindingRow.integration_id == integration_id))
    }
    for type_id in outcome.evaluated_type_ids - findings.keys():
        findings[type_id] = FindingRow(integration_id=integration_id, finding_type_id=type_id,
                                       status=FindingStatus.ACTIVE)
        session.add(findings[type_id])

    assets = {
        (row.kind, row.external_id): row
        for row in session.scalars(select(AssetRow).where(AssetRow.integration_id == integration_id))
    }
    for detection in detections.values():
        ref = detection.asset
        asset = assets.get((str(ref.kind), ref.id))
        if asset is None:
            asset = AssetRow(integration_id=integration_id, kind=str(ref.kind), external_id=ref.id, first_seen=now)
            assets[(asset.kind, asset.external_id)] = asset
            session.add(asset)
        asset.name, asset.email, asset.link = ref.name, ref.email, ref.link
        asset.asset_metadata = dict(ref.metadata)
        asset.last_seen = now
    session.flush()  # ids for new findings and assets

    by_finding = {row.id: row for row in findings.values()}
    instances = {
        (row.finding_id, row.asset_id): row
        for row in session.scalars(
            select(InstanceRow).join(FindingRow).where(FindingRow.integration_id == integration_id)
        )
    }
    pending_events: list[tuple[InstanceRow, EventType, dict[str, Any]]] = []
    counts: Counter[str] = Counter()
    seen: set[int] = set()
    severity_counts: Counter[str] = Counter()

    for key, detection in detections.items():
        finding = findings[detection.finding_type_id]
        asset = assets[(key[1], key[2])]
        instance = instances.get((finding.id, asset.id))
        if instance is None:
            instance = InstanceRow(finding_id=finding.id, asset_id=asset.id, status=InstanceStatus.ACTIVE,
                                   first_detected=now, new_in_scan_id=scan.id)
            instances[(finding.id, asset.id)] = instance
            session.add(instance)
            pending_events.append((instance, EventType.DETECTED, {}))
            counts["new"] += 1
        elif instance.status == InstanceStatus.RESOLVED:
            user_hidden = _user_hide_in_force(instance, now)
            instance.status = InstanceStatus.HIDDEN if user_hidden else InstanceStatus.ACTIVE
            instance.resolved_at = None
            if not user_hidden:
                instance.hidden_by = instance.hidden_reason = None
                instance.hidden_until = None
            pending_events.append((instance, EventType.REOPENED, {"status": str(instance.status)}))
            counts["reopened"] += 1
        instance.last_detected = now
        instance.evidence = dict(detection.evidence)
        instance.last_scan_id = scan.id
        _apply_mute_rule(instance, _rule_lookup(mute_rules, key), now, pending_events)
        seen.add(id(instance))

    for instance in instances.values():
        if instance.status == InstanceStatus.HIDDEN and instance.hidden_until and instance.hidden_until <= now:
            reason = "mutelist rule expired" if instance.hidden_by == MUTELIST else "hide expired"
            _unhide(instance, pending_events, {"reason": reason})

    type_of_finding = {row.id: row.finding_type_id for row in findings.values()}
    for instance in instances.values():
        if id(instance) in seen or instance.status == InstanceStatus.RESOLVED:
            continue
        if type_of_finding[instance.finding_id] in outcome.complete_type_ids:
            instance.status = InstanceStatus.RESOLVED
            instance.resolved_at = now
            pending_events.append((instance, EventType.RESOLVED, {}))
            counts["resolved"] += 1

    session.flush()  # ids for new instances, needed by their events
    session.add_all(
        EventRow(instance_id=instance.id, scan_id=scan.id, event_type=event_type, at=now, details=details)
        for instance, event_type, details in pending_events
    )

    for instance in instances.values():
        finding = by_finding[instance.finding_id]
        if id(instance) in seen and instance.status == InstanceStatus.ACTIVE and finding.status == FindingStatus.ACTIVE:
            level = finding.severity_override if finding.severity_override is not None else \
                default_severity[finding.finding_type_id]
            severity_counts[Severity(level).label.lower()] += 1

    _record_user_activity(session, integration_id, outcome.user_activity)
    scan.status = outcome.status
    scan.finished_at = now
    scan.source_reports = [
        {"source": str(r.source), "state": r.state, "reason": r.reason, "pages": r.pages, "objects": r.objects}
        for r in outcome.source_reports
    ]
    scan.errors = list(outcome.errors)
    scan.severity_counts = dict(severity_counts)
    scan.new_count, scan.reopened_count, scan.resolved_count = counts["new"], counts["reopened"], counts["resolved"]
    scan.high_water_mark = outcome.high_water_mark
    session.flush()
    return ScanSummary(
        scan_id=scan.id,
        status=outcome.status,
        new=counts["new"],
        reopened=counts["reopened"],
        resolved=counts["resolved"],
        detected=len(detections),
        severity_counts=dict(severity_counts),
        incomplete_sources=tuple(str(r.source) for r in outcome.source_reports if r.state in ("failed", "partial")),
    )


def _user_hide_in_force(instance: InstanceRow, now: datetime) -> bool:
    """A person's hide outlives a resolution: the instance comes back hidden."""
    return (
        instance.hidden_by is not None
        and instance.hidden_by != MUTELIST
        and (instance.hidden_until is None or instance.hidden_until > now)
    )


def _apply_mute_rule(
    instance: InstanceRow,
    rule: MuteRule | None,
    now: datetime,
    events: list[tuple[InstanceRow, EventType, dict[str, Any]]],
) -> None:
    in_force = rule is not None and (rule.expires_at is None or rule.expires_at > now)
    muted_by_list = instance.status == InstanceStatus.HIDDEN and instance.hidden_by == MUTELIST
    if rule is not None and in_force:
        if instance.status == InstanceStatus.ACTIVE or muted_by_list:
            changed = not muted_by_list
            instance.status = InstanceStatus.HIDDEN
            instance.hidden_by = MUTELIST
            instance.hidden_reason = rule.reason
            instance.hidden_until = rule.expires_at
            if changed:
                until = rule.expires_at.isoformat() if rule.expires_at else None
                events.append((instance, EventType.HIDDEN, {"by": MUTELIST, "reason": rule.reason, "until": until}))
        return  # a person's own hide wins over the mutelist
    if muted_by_list:
        reason = "mutelist rule expired" if rule is not None else "no mutelist rule matches any more"
        _unhide(instance, events, {"reason": reason})


def _unhide(
    instance: InstanceRow, events: list[tuple[InstanceRow, EventType, dict[str, Any]]], details: dict[str, Any]
) -> None:
    events.append((instance, EventType.UNHIDDEN, {"by": instance.hidden_by, **details}))
    instance.status = InstanceStatus.ACTIVE
    instance.hidden_by = instance.hidden_reason = None
    instance.hidden_until = None


def _record_user_activity(session: Session, integration_id: int, activity: Mapping[str, datetime]) -> None:
    if not activity:
        return
    existing = {
        row.user_key: row
        for row in session.scalars(select(UserActivityRow).where(UserActivityRow.integration_id == integration_id))
    }
    for user_key, last_active_at in activity.items():
        row = existing.get(user_key)
        if row is None:
            session.add(UserActivityRow(integration_id=integration_id, user_key=user_key,
                                        last_active_at=last_active_at))
        elif last_active_at > row.last_active_at:
            row.last_active_at = last_active_at
