"""The one call the scanner (or a worker) makes after a scan: send the store's new lifecycle events."""

from __future__ import annotations

from collections.abc import Sequence

from openai_casb.alerts.config import WebhookDestination
from openai_casb.alerts.delivery_log import DeliveryLog
from openai_casb.alerts.dispatcher import DeliveryResult, WebhookDispatcher
from openai_casb.exports.source import build_events
from openai_casb.store import Store


def notify_webhooks(
    store: Store,
    destinations: Sequence[WebhookDestination],
    log: DeliveryLog,
    *,
    since_scan_id: int | None = None,
    integration_id: int | None = None,
    dispatcher: WebhookDispatcher | None = None,
) -> list[DeliveryResult]:
    """Dispatch lifecycle events after `since_scan_id` (all when None) to every enabled destination.

    Safe to call with an overlapping range: the delivery log drops what was already delivered.
    """
    if not any(d.enabled for d in destinations):
        return []
    events = build_events(store, since_scan_id=since_scan_id, integration_id=integration_id)
    if dispatcher is not None:
        return dispatcher.dispatch(events)
    owned = WebhookDispatcher(destinations, log)
    try:
        return owned.dispatch(events)
    finally:
        owned.close()
