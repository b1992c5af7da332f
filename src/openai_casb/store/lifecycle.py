"""Applying one scan's detections to the stored findings: the lifecycle of docs/lifecycle.md.

Everything here runs inside the one transaction of `Store.finish_scan`; the caller commits.
Detections are applied in batches with SQLAlchemy Core (plain tuples, executemany, set-based
UPDATEs), so a scan of a million instances needs bounded memory: only one batch is ever held.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, literal, literal_column, or_, select, text, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from openai_casb.detections import Detection, Severity
from openai_casb.inventory.model import SourceReport
from openai_casb.store.guard import refuse_secrets
from openai_casb.store.records import (
    EventType,
    FindingStatus,
    InstanceStatus,
    MuteKey,
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
    UtcDateTime,
)
from openai_casb.store.transitions import Events, InstanceState, apply_mute_rule, expire_hide, reopen, rule_lookup

FINISHED_STATUSES = (ScanStatus.COMPLETE, ScanStatus.PARTIAL, ScanStatus.FAILED)
BATCH_SIZE = 2000  # unique detections per batch; keeps IN lists well under SQLite's parameter limit
ASSETS = cast(Table, AssetRow.__table__)
INSTANCES = cast(Table, InstanceRow.__table__)
EVENTS = cast(Table, EventRow.__table__)
FINDINGS = cast(Table, FindingRow.__table__)
USER_ACTIVITY = cast(Table, UserActivityRow.__table__)


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


def _batches(detections: Iterable[Detection]) -> Iterator[dict[MuteKey, Detection]]:
    """Unique detections in batches; the same (type, asset) twice in one scan is one instance (the last wins)."""
    batch: dict[MuteKey, Detection] = {}
    for detection in detections:
        batch[(detection.finding_type_id, str(detection.asset.kind), detection.asset.id)] = detection
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = {}
    if batch:
        yield batch


class _PlannerStatistics:
    """Keeps PostgreSQL's statistics in step while this transaction fills the tables.

    The per-batch lookups are planned from table statistics; a table filling up inside this
    transaction has none (or stale ones), and the planner then walks a whole index range instead
    of probing the batch's keys, so each batch would cost O(table). ANALYZE, which sees this
    transaction's own rows, each time the tables have grown by half keeps every batch's cost flat.
    """

    MIN_GROWTH = 10_000

    def __init__(self, session: Session) -> None:
        self._session = session
        self._enabled = session.get_bind().dialect.name == "postgresql"
        self._grown = 0
        self._rows_at_analyze = 0
        if self._enabled:
            reltuples = session.execute(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"),
                                        {"name": INSTANCES.name}).scalar_one_or_none()
            self._rows_at_analyze = max(0, int(reltuples or 0))

    def grew(self, rows: int) -> None:
        if not self._enabled:
            return
        self._grown += rows
        if self._grown >= max(self.MIN_GROWTH, self._rows_at_analyze // 2):
            for table in (ASSETS, INSTANCES):
                self._session.execute(text(f'ANALYZE "{table.name}"'))
            self._rows_at_analyze += self._grown
            self._grown = 0


def newest_event_id(session: Session) -> int | None:
    return session.execute(select(func.max(EVENTS.c.id))).scalar_one_or_none()


def _validate_outcome(session: Session, outcome: ScanOutcome) -> dict[str, int]:
    if outcome.status not in FINISHED_STATUSES:
        raise ValueError(f"finish_scan status must be complete, partial or failed, not {outcome.status!r}")
    if not outcome.complete_type_ids <= outcome.evaluated_type_ids:
        extra = sorted(outcome.complete_type_ids - outcome.evaluated_type_ids)
        raise ValueError(f"complete_type_ids must be evaluated too: {extra}")
    known = {type_id: int(level) for type_id, level in session.execute(select(FindingTypeRow.id,
                                                                               FindingTypeRow.severity))}
    unknown = sorted(outcome.evaluated_type_ids - known.keys())
    if unknown:
        raise ValueError(f"unknown finding types {unknown}; call sync_finding_types first")
    refuse_secrets("the scan's errors or source reports", list(outcome.errors),
                   [report.reason for report in outcome.source_reports])
    return known


def _validate_batch(batch: Mapping[MuteKey, Detection], outcome: ScanOutcome) -> None:
    for (type_id, kind, asset_id), detection in batch.items():
        if type_id not in outcome.evaluated_type_ids:
            raise ValueError(f"detection of finding type {type_id} which the scan did not list as evaluated")
        asset = detection.asset
        refuse_secrets(f"the detection {type_id} on {kind} {asset_id}", asset_id, detection.evidence,
                       asset.name, asset.email, asset.link, asset.metadata)


def _findings(session: Session, integration_id: int, outcome: ScanOutcome, default_severity: Mapping[str, int],
              ) -> dict[str, tuple[int, str, int]]:
    """finding type id -> (finding id, finding status, effective severity); missing findings are created."""
    def load() -> dict[str, tuple[int, str, int]]:
        rows = session.execute(select(FINDINGS.c.finding_type_id, FINDINGS.c.id, FINDINGS.c.status,
                                      FINDINGS.c.effective_severity)
                               .where(FINDINGS.c.integration_id == integration_id))
        return {type_id: (finding_id, status, level) for type_id, finding_id, status, level in rows}

    findings = load()
    missing = sorted(outcome.evaluated_type_ids - findings.keys())
    if missing:
        session.execute(insert(FINDINGS), [
            {"integration_id": integration_id, "finding_type_id": type_id, "status": FindingStatus.ACTIVE,
             "severity_override": None, "effective_severity": default_severity[type_id]}
            for type_id in missing
        ])
        findings = load()
    return findings


def _upsert_assets(session: Session, integration_id: int, batch: Mapping[MuteKey, Detection],
                   now: datetime) -> dict[tuple[str, str], int]:
    """(kind, external id) -> asset id for the batch; new assets inserted, changed ones updated."""
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    for (_type_id, kind, asset_id), detection in batch.items():
        ref = detection.asset
        wanted[(kind, asset_id)] = {"name": ref.name, "email": ref.email, "link": ref.link,
                                    "metadata": dict(ref.metadata)}
    by_kind: dict[str, list[str]] = {}
    for kind, asset_id in wanted:
        by_kind.setdefault(kind, []).append(asset_id)

    def existing() -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
        found: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        for kind, external_ids in by_kind.items():
            rows = session.execute(
                select(ASSETS.c.id, ASSETS.c.external_id, ASSETS.c.name, ASSETS.c.email, ASSETS.c.link,
                       ASSETS.c.metadata)
                .where(ASSETS.c.integration_id == integration_id, ASSETS.c.kind == kind,
                       ASSETS.c.external_id.in_(external_ids))
            )
            for asset_pk, external_id, name, email, link, metadata in rows:
                found[(kind, external_id)] = (asset_pk, {"name": name, "email": email, "link": link,
                                                         "metadata": dict(metadata or {})})
        return found

    stored = existing()
    new = [{"integration_id": integration_id, "kind": kind, "external_id": external_id, "first_seen": now,
            "last_seen": now, **fields}
           for (kind, external_id), fields in wanted.items() if (kind, external_id) not in stored]
    changed = [{"b_id": stored[key][0], **{f"b_{name}": value for name, value in fields.items()}}
               for key, fields in wanted.items() if key in stored and stored[key][1] != fields]
    if changed:
        session.execute(
            update(ASSETS).where(ASSETS.c.id == bindparam("b_id")).values(
                name=bindparam("b_name"), email=bindparam("b_email"), link=bindparam("b_link"),
                metadata=bindparam("b_metadata", type_=ASSETS.c.metadata.type)),
            changed,
        )
    old_ids = [stored[key][0] for key in wanted if key in stored]
    if old_ids:
        session.execute(update(ASSETS).where(ASSETS.c.id.in_(old_ids)).values(last_seen=now))
    if new:
        session.execute(insert(ASSETS), new)
        stored = existing()
    return {key: stored[key][0] for key in wanted}


def _apply_batch(session: Session, scan_id: int, batch: Mapping[MuteKey, Detection],
                 findings: Mapping[str, tuple[int, str, int]], assets: Mapping[tuple[str, str], int],
                 mute_rules: MuteRules | None, now: datetime, counts: Counter[str]) -> None:
    wanted = {(findings[type_id][0], assets[(kind, asset_id)]): (type_id, kind, asset_id)
              for type_id, kind, asset_id in batch}
    stored: dict[tuple[int, int], tuple[InstanceState, dict[str, Any]]] = {}
    rows = session.execute(
        select(INSTANCES.c.id, INSTANCES.c.finding_id, INSTANCES.c.asset_id, INSTANCES.c.status,
               INSTANCES.c.hidden_by, INSTANCES.c.hidden_reason, INSTANCES.c.hidden_until, INSTANCES.c.resolved_at,
               INSTANCES.c.evidence)
        .where(INSTANCES.c.asset_id.in_(sorted({asset_pk for _finding, asset_pk in wanted})))
    )
    for pk, finding_id, asset_pk, status, hidden_by, reason, until, resolved_at, evidence in rows:
        if (finding_id, asset_pk) in wanted:
            stored[(finding_id, asset_pk)] = (InstanceState(pk, status, hidden_by, reason, until, resolved_at),
                                              dict(evidence or {}))

    events: Events = []
    new_rows: list[dict[str, Any]] = []
    new_states: dict[tuple[int, int], InstanceState] = {}
    changed: list[dict[str, Any]] = []
    unchanged_ids: list[int] = []
    for pair, key in wanted.items():
        detection = batch[key]
        evidence = dict(detection.evidence)
        found = stored.get(pair)
        if found is None:
            instance = InstanceState(None, InstanceStatus.ACTIVE, None, None, None, None)
            events.append((instance, EventType.DETECTED, {}))
            counts["new"] += 1
            before: tuple[object, ...] | None = None
        else:
            instance = found[0]
            before = instance.lifecycle()
            if instance.status == InstanceStatus.RESOLVED:
                reopen(instance, now, events)
                counts["reopened"] += 1
        apply_mute_rule(instance, rule_lookup(mute_rules, key), now, events)
        expire_hide(instance, now, events)
        fields = {"status": instance.status, "hidden_by": instance.hidden_by,
                  "hidden_reason": instance.hidden_reason, "hidden_until": instance.hidden_until,
                  "resolved_at": instance.resolved_at, "evidence": evidence}
        if found is None:
            new_states[pair] = instance
            new_rows.append({"finding_id": pair[0], "asset_id": pair[1], "first_detected": now, "last_detected": now,
                             "new_in_scan_id": scan_id, "last_scan_id": scan_id, **fields})
        elif before != instance.lifecycle() or found[1] != evidence:
            changed.append({"b_id": instance.id, **{f"b_{name}": value for name, value in fields.items()}})
        else:
            assert instance.id is not None
            unchanged_ids.append(instance.id)

    if unchanged_ids:
        session.execute(update(INSTANCES).where(INSTANCES.c.id.in_(unchanged_ids))
                        .values(last_detected=now, last_scan_id=scan_id))
    if changed:
        column = INSTANCES.c
        session.execute(
            update(INSTANCES).where(column.id == bindparam("b_id")).values(
                status=bindparam("b_status"), hidden_by=bindparam("b_hidden_by"),
                hidden_reason=bindparam("b_hidden_reason"),
                hidden_until=bindparam("b_hidden_until", type_=column.hidden_until.type),
                resolved_at=bindparam("b_resolved_at", type_=column.resolved_at.type),
                evidence=bindparam("b_evidence", type_=column.evidence.type),
                last_detected=now, last_scan_id=scan_id),
            changed,
        )
    if new_rows:
        session.execute(insert(INSTANCES), new_rows)
        inserted = session.execute(
            select(INSTANCES.c.id, INSTANCES.c.finding_id, INSTANCES.c.asset_id)
            .where(INSTANCES.c.new_in_scan_id == scan_id,
                   INSTANCES.c.asset_id.in_(sorted({asset_pk for _finding, asset_pk in new_states})))
        )
        for pk, finding_id, asset_pk in inserted:
            if (finding_id, asset_pk) in new_states:
                new_states[(finding_id, asset_pk)].id = pk
    _write_events(session, scan_id, now, events)


def _write_events(session: Session, scan_id: int, now: datetime, events: Events) -> None:
    if events:
        session.execute(insert(EVENTS), [
            {"instance_id": instance.id, "scan_id": scan_id, "event_type": str(event_type), "at": now,
             "details": details}
            for instance, event_type, details in events
        ])


def _not_seen(scan_id: int, finding_ids: Iterable[int]) -> list[Any]:
    return [INSTANCES.c.finding_id.in_(sorted(finding_ids)),
            or_(INSTANCES.c.last_scan_id.is_(None), INSTANCES.c.last_scan_id != scan_id)]


def _expire_unseen_hides(session: Session, scan_id: int, finding_ids: Iterable[int], now: datetime) -> None:
    """Hides whose time is up end even on instances this scan did not see."""
    conditions = [*_not_seen(scan_id, finding_ids), INSTANCES.c.status == InstanceStatus.HIDDEN,
                  INSTANCES.c.hidden_until.is_not(None), INSTANCES.c.hidden_until <= now]
    rows = session.execute(select(INSTANCES.c.id, INSTANCES.c.hidden_by).where(*conditions)).all()
    for start in range(0, len(rows), BATCH_SIZE):
        chunk = rows[start:start + BATCH_SIZE]
        events: Events = []
        for pk, hidden_by in chunk:
            expire_hide(InstanceState(pk, InstanceStatus.HIDDEN, hidden_by, None, now, None), now, events)
        session.execute(update(INSTANCES).where(INSTANCES.c.id.in_([pk for pk, _by in chunk]))
                        .values(status=InstanceStatus.ACTIVE, hidden_by=None, hidden_reason=None, hidden_until=None))
        _write_events(session, scan_id, now, events)


def _resolve_unseen(session: Session, scan_id: int, finding_ids: Iterable[int], now: datetime) -> int:
    """Set-based: every instance of a completely read type that this scan did not see is resolved."""
    conditions = [*_not_seen(scan_id, finding_ids), INSTANCES.c.status != InstanceStatus.RESOLVED]
    session.execute(insert(EVENTS).from_select(
        ["instance_id", "scan_id", "event_type", "at", "details"],
        select(INSTANCES.c.id, literal(scan_id), literal(str(EventType.RESOLVED)), literal(now, UtcDateTime()),
               literal_column("'{}'")).where(*conditions).order_by(INSTANCES.c.id),
    ))
    result = cast(CursorResult[Any], session.execute(update(INSTANCES).where(*conditions)
                             .values(status=InstanceStatus.RESOLVED, resolved_at=now)))
    return int(result.rowcount)


def apply_scan(
    session: Session,
    scan: ScanRow,
    detections: Iterable[Detection],
    mute_rules: MuteRules | None,
    outcome: ScanOutcome,
) -> ScanSummary:
    default_severity = _validate_outcome(session, outcome)
    now = outcome.now
    integration_id = scan.integration_id
    findings = _findings(session, integration_id, outcome, default_severity)
    counts: Counter[str] = Counter()
    statistics = _PlannerStatistics(session)
    for batch in _batches(detections):
        _validate_batch(batch, outcome)
        assets = _upsert_assets(session, integration_id, batch, now)
        new_before = counts["new"]
        _apply_batch(session, scan.id, batch, findings, assets, mute_rules, now, counts)
        statistics.grew(counts["new"] - new_before)
    # The scan row takes each stage's figures as it completes (still inside the one transaction).
    scan.new_count, scan.reopened_count = counts["new"], counts["reopened"]
    session.flush()

    all_findings = [finding_id for finding_id, _status, _level in findings.values()]
    if all_findings:
        _expire_unseen_hides(session, scan.id, all_findings, now)
    complete = [findings[type_id][0] for type_id in outcome.complete_type_ids]
    counts["resolved"] = _resolve_unseen(session, scan.id, complete, now) if complete else 0
    scan.resolved_count = counts["resolved"]
    session.flush()

    detected = int(session.execute(select(func.count()).select_from(INSTANCES)
                                   .where(INSTANCES.c.last_scan_id == scan.id)).scalar_one())
    # Open after this scan: every active instance of an active finding, including those a partial
    # or incremental read did not see again (a conversation not re-read is still exposed).
    severity_counts: Counter[str] = Counter()
    open_findings = {finding_id: level for finding_id, status, level in findings.values()
                     if status == FindingStatus.ACTIVE}
    if open_findings:
        open_instances = session.execute(select(INSTANCES.c.finding_id, func.count())
                                         .where(INSTANCES.c.finding_id.in_(list(open_findings)),
                                                INSTANCES.c.status == InstanceStatus.ACTIVE)
                                         .group_by(INSTANCES.c.finding_id))
        for finding_id, count in open_instances:
            severity_counts[Severity(open_findings[finding_id]).label.lower()] += int(count)

    _record_user_activity(session, integration_id, outcome.user_activity)
    scan.status = outcome.status
    scan.finished_at = now
    scan.source_reports = [
        {"source": str(r.source), "state": r.state, "reason": r.reason, "pages": r.pages, "objects": r.objects}
        for r in outcome.source_reports
    ]
    scan.errors = list(outcome.errors)
    scan.severity_counts = dict(severity_counts)
    scan.high_water_mark = outcome.high_water_mark
    scan.last_event_id = newest_event_id(session)
    session.flush()
    return ScanSummary(
        scan_id=scan.id,
        status=outcome.status,
        new=counts["new"],
        reopened=counts["reopened"],
        resolved=counts["resolved"],
        detected=detected,
        severity_counts=dict(severity_counts),
        incomplete_sources=tuple(str(r.source) for r in outcome.source_reports if r.state in ("failed", "partial")),
    )


def _record_user_activity(session: Session, integration_id: int, activity: Mapping[str, datetime]) -> None:
    """Batched Core statements, like detections: memory is one batch of keys, not one ORM object per
    user of the workspace (2 KiB each, 200 MiB at 50,000 users, held until the commit)."""
    pending = iter(activity.items())
    while chunk := list(islice(pending, BATCH_SIZE)):
        stored: dict[str, datetime] = dict(session.execute(
            select(USER_ACTIVITY.c.user_key, USER_ACTIVITY.c.last_active_at)
            .where(USER_ACTIVITY.c.integration_id == integration_id,
                   USER_ACTIVITY.c.user_key.in_([user_key for user_key, _at in chunk]))
        ).all())
        new = [{"integration_id": integration_id, "user_key": user_key, "last_active_at": at}
               for user_key, at in chunk if user_key not in stored]
        newer = [{"key": user_key, "at": at} for user_key, at in chunk
                 if user_key in stored and at > stored[user_key]]
        if new:
            session.execute(insert(USER_ACTIVITY), new)
        if newer:
            session.execute(update(USER_ACTIVITY)
                            .where(USER_ACTIVITY.c.integration_id == integration_id,
                                   USER_ACTIVITY.c.user_key == bindparam("key"))
                            .values(last_active_at=bindparam("at")), newer)
