"""Webhook bodies: `generic` (versioned JSON) and `slack` (incoming-webhook `text` + Block Kit `blocks`)."""

from __future__ import annotations

from typing import Any

from openai_casb.exports.common import asset_record, plain_evidence
from openai_casb.exports.model import EventType, LifecycleEvent, iso

GENERIC_PAYLOAD_VERSION = 1

_VERBS = {
    EventType.DETECTED: "New finding",
    EventType.REOPENED: "Finding reopened",
    EventType.RESOLVED: "Finding resolved",
    EventType.HIDDEN: "Finding hidden",
    EventType.UNHIDDEN: "Finding unhidden",
}


def generic_payload(event: LifecycleEvent) -> dict[str, Any]:
    return {
        "version": GENERIC_PAYLOAD_VERSION,
        "id": event.event_id,
        "type": f"finding.{event.event_type.value}",
        "occurred_at": iso(event.event_time),
        "finding_type": {
            "id": event.finding_type_id,
            "name": event.finding_type_name,
            "severity": event.severity.name.lower(),
        },
        "instance": {"id": event.instance_id, "detected_at": iso(event.detected_at)},
        "asset": asset_record(event.asset),
        "integration": {"id": event.integration.id, "display_name": event.integration.display_name},
        "scan_id": event.scan_id,
        "evidence": plain_evidence(event.evidence),
    }


def slack_escape(text: str) -> str:
    """Slack's mrkdwn control characters; anything else is shown as is."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(event: LifecycleEvent) -> dict[str, Any]:
    asset = event.asset
    verb = _VERBS[event.event_type]
    asset_label = slack_escape(asset.name or asset.email or asset.id)
    if asset.link and asset.link.startswith("https://"):
        asset_label = f"<{slack_escape(asset.link)}|{asset_label}>"
    title = f"{verb}: {event.finding_type_name} ({event.severity.label})"
    fields = [
        f"*Asset*\n{asset_label}",
        f"*Kind*\n{slack_escape(asset.kind.value)} `{slack_escape(asset.id)}`",
        f"*Integration*\n{slack_escape(event.integration.display_name)}",
        f"*First detected*\n{iso(event.detected_at)}",
    ]
    return {
        "text": slack_escape(f"{title}: {asset.name or asset.email or asset.id}"),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": False}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": text} for text in fields]},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"openai-casb · event `{slack_escape(event.event_id)}` at {iso(event.event_time)}",
                    }
                ],
            },
        ],
    }
