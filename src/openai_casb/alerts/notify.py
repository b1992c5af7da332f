"""The one call the scanner (or a worker) makes after a scan: send the events each destination still lacks.

A dispatch is not limited to the scan that just ended. Per destination, it takes every lifecycle
event not yet delivered to it: the new ones (after `since_scan_id`), and older ones that failed, were
refused, or were never tried (a dispatch stopped by its circuit breaker or time limit, a process
killed while sending), back to that destination's oldest undelivered event. Older events are given
up after MAX_EVENT_AGE, and one dispatch sends at most MAX_EVENTS_PER_DISPATCH events to a
destination (the rest go with the next one). Receivers deduplicate on the event id, so a re-send is
harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from openai_casb.alerts.config import WebhookDestination
from openai_casb.alerts.delivery_log import DeliveryLog, DeliveryProgress
from openai_casb.alerts.dispatcher import DeliveryResult, WebhookDispatcher, matches
from openai_casb.exports.model import LifecycleEvent
from openai_casb.exports.source import EventBuilder
from openai_casb.store import Store

# An event not delivered within this time (by the time of its last attempt) is no longer sent.
MAX_EVENT_AGE = timedelta(days=7)
# At most this many events per destination and dispatch; the rest wait for the next dispatch.
MAX_EVENTS_PER_DISPATCH = 5000
_PAGE = 500


def notify_webhooks(
    store: Store,
    destinations: Sequence[WebhookDestination],
    log: DeliveryLog,
    *,
    since_scan_id: int | None = None,
    integration_id: int | None = None,
    dispatcher: WebhookDispatcher | None = None,
    now: datetime | None = None,
) -> list[DeliveryResult]:
    """Dispatch, to every enabled destination, the lifecycle events it has not received yet.

    The events after `since_scan_id` (all when None) are always candidates; with a log that
    implements `DeliveryProgress` (both of this package's logs do), so are the destination's
    undelivered older events, within MAX_EVENT_AGE. `integration_id` limits the events to one
    integration. Safe to call again over the same events: the delivery log drops what was delivered.
    """
    enabled = [d for d in destinations if d.enabled]
    if not enabled:
        return []
    cutoff = (now or datetime.now(UTC)) - MAX_EVENT_AGE
    builder = EventBuilder(store)
    fresh_from = _first_event_after(store, since_scan_id, integration_id)
    selected = _pending_events(store, builder, enabled, log, fresh_from, integration_id, cutoff)
    if dispatcher is not None:
        return dispatcher.dispatch_each(selected)
    owned = WebhookDispatcher(enabled, log)
    try:
        return owned.dispatch_each(selected)
    finally:
        owned.close()


def _first_event_after(store: Store, since_scan_id: int | None, integration_id: int | None) -> int | None:
    """The id from which events are new to this dispatch (0: all events; None: no new event yet)."""
    if since_scan_id is None:
        return 0
    first = store.events(since_scan_id, integration_id=integration_id, limit=1)
    return first[0].id if first else None


def _as_int(event_id: str) -> int | None:
    return int(event_id) if event_id.isdigit() else None


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _start(log: DeliveryLog, name: str, fresh_from: int | None, cutoff: datetime) -> int | None:
    """The lowest event id that may be pending for this destination (None: none may be)."""
    candidates = [] if fresh_from is None else [fresh_from]
    if isinstance(log, DeliveryProgress):
        # failed or refused, and retried since the cutoff
        candidates += [i for i in map(_as_int, log.undelivered_since(name, cutoff)) if i is not None]
        last = log.last_recorded(name)
        if last is not None and _aware(last[1]) >= cutoff and (last_id := _as_int(last[0])) is not None:
            candidates.append(last_id + 1)  # never tried: after the last one that was
    return min(candidates) if candidates else None


def _pending_events(
    store: Store,
    builder: EventBuilder,
    destinations: Sequence[WebhookDestination],
    log: DeliveryLog,
    fresh_from: int | None,
    integration_id: int | None,
    cutoff: datetime,
) -> dict[str, list[LifecycleEvent]]:
    """Each destination's undelivered events that match its filters, oldest first, at most the cap.

    The event pages are read (and built) once per dispatch, from the lowest start of the destinations
    still short of the cap; each destination takes its own view of every page: the events from its
    own start that match its filters and it has not received."""
    starts = {d.name: _start(log, d.name, fresh_from, cutoff) for d in destinations}
    pending: dict[str, list[LifecycleEvent]] = {d.name: [] for d in destinations}
    after = -1
    while True:
        wanting = [
            (d, start)
            for d in destinations
            if (start := starts[d.name]) is not None and len(pending[d.name]) < MAX_EVENTS_PER_DISPATCH
        ]
        if not wanting:
            break
        after = max(after, min(start for _, start in wanting) - 1)
        page = store.events(None, after_event_id=after, integration_id=integration_id, limit=_PAGE)
        if not page:
            break
        after = page[-1].id
        # events new to this dispatch always; older ones while they are young enough
        young = [r for r in page if (fresh_from is not None and r.id >= fresh_from) or _aware(r.at) >= cutoff]
        built = list(zip(young, builder.build(young), strict=True))
        for destination, start in wanting:
            candidates = [e for r, e in built if r.id >= start and matches(destination, e)]
            pending[destination.name] += _undelivered(log, destination.name, candidates)
        if len(page) < _PAGE:
            break
    return {name: events[:MAX_EVENTS_PER_DISPATCH] for name, events in pending.items()}


def _undelivered(log: DeliveryLog, name: str, events: list[LifecycleEvent]) -> list[LifecycleEvent]:
    ids = [e.event_id for e in events]
    if isinstance(log, DeliveryProgress):
        delivered = log.delivered_among(name, ids)
    else:
        delivered = {i for i in ids if log.was_delivered(name, i)}
    return [e for e in events if e.event_id not in delivered]
