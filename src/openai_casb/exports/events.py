"""The SIEM event stream: one JSON line per lifecycle change, with a fixed set of fields."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from openai_casb.exports.model import LifecycleEvent, iso
from openai_casb.exports.safety import ensure_no_plain_secrets

EVENT_FIELDS: tuple[str, ...] = (
    "FindingTypeID",
    "FindingTypeDisplayName",
    "FindingTypeSeverity",
    "AssetDisplayName",
    "AssetExternalID",
    "AssetLink",
    "DetectedTimestamp",
    "InstanceID",
    "IntegrationID",
    "IntegrationDisplayName",
    "EventType",
    "EventTime",
)


def event_record(event: LifecycleEvent) -> dict[str, Any]:
    """Exactly `EVENT_FIELDS`, in that order."""
    asset = event.asset
    return {
        "FindingTypeID": event.finding_type_id,
        "FindingTypeDisplayName": event.finding_type_name,
        "FindingTypeSeverity": event.severity.label,
        "AssetDisplayName": asset.name or asset.email or asset.id,
        "AssetExternalID": asset.id,
        "AssetLink": asset.link,
        "DetectedTimestamp": iso(event.detected_at),
        "InstanceID": event.instance_id,
        "IntegrationID": event.integration.id,
        "IntegrationDisplayName": event.integration.display_name,
        "EventType": event.event_type.value,
        "EventTime": iso(event.event_time),
    }


def ordered_events(events: Iterable[LifecycleEvent]) -> list[LifecycleEvent]:
    """Oldest first; events at the same time keep the order they were given in (the store's order)."""
    return sorted(events, key=lambda e: iso(e.event_time) or "")


def render_events_jsonl(events: Iterable[LifecycleEvent]) -> str:
    lines = [json.dumps(event_record(event), ensure_ascii=False) for event in ordered_events(events)]
    return ensure_no_plain_secrets("".join(line + "\n" for line in lines), "event stream")
