"""notify_webhooks over a real store: each lifecycle change is delivered once, unchanged instances never."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from webhook_receiver import running_receiver

from openai_casb.alerts.config import WebhookDestination
from openai_casb.alerts.delivery_log import InMemoryDeliveryLog
from openai_casb.alerts.notify import notify_webhooks
from openai_casb.checks.registry import default_registry
from openai_casb.detections import AssetRef, Detection
from openai_casb.inventory.model import AssetKind
from openai_casb.store import Store

UNUSED_ADMIN_KEY = "49c75a36-1e64-437b-98a1-e54ec35d0a64"


def _key(asset_id: str) -> Detection:
    return Detection(UNUSED_ADMIN_KEY, AssetRef(AssetKind.ADMIN_API_KEY, asset_id, name=f"key {asset_id}"),
                     {"redacted_value": "sk-admin...abc"})  # fmt: skip


def _scan(store: Store, integration_id: int, day: int, detections: list[Detection]) -> None:
    all_types = [check.id for check in default_registry()]
    at = datetime(2026, 3, day, tzinfo=UTC)
    scan_id = store.begin_scan(integration_id, started_at=at)
    store.finish_scan(scan_id, detections=detections, evaluated_type_ids=all_types, complete_type_ids=all_types,
                      finished_at=at)  # fmt: skip


def test_lifecycle_changes_only_and_once(tmp_path: Path) -> None:
    log = InMemoryDeliveryLog()
    with Store.open(f"sqlite:///{tmp_path / 'casb.db'}") as store, running_receiver() as receiver:
        store.sync_finding_types(default_registry().infos())
        integration = store.ensure_integration("org-acme", None, "Acme")
        target = WebhookDestination.model_validate({"name": "siem", "url": receiver.url, "allow_private": True})
        _scan(store, integration.id, 1, [_key("k1"), _key("k2")])
        notify_webhooks(store, [target], log)
        _scan(store, integration.id, 2, [_key("k1"), _key("k2")])  # nothing changed
        notify_webhooks(store, [target], log)
        _scan(store, integration.id, 3, [_key("k1")])  # k2 resolved
        notify_webhooks(store, [target], log)
        notify_webhooks(store, [target], log)  # the same range again
    sent = [json.loads(r.body) for r in receiver.requests]
    assert [(p["asset"]["id"], p["type"]) for p in sent] == [
        ("k1", "finding.detected"), ("k2", "finding.detected"), ("k2", "finding.resolved"),
    ]  # fmt: skip
    assert len({p["id"] for p in sent}) == 3
