"""An event that was not delivered goes out at a later dispatch, even one after another scan.

Each test runs the real `notify_after_scan` path (`since_scan_id` = the previous scan), with the
database delivery log, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from webhook_receiver import Receiver, running_receiver

from openai_casb.alerts import notify
from openai_casb.alerts.config import WebhookDestination
from openai_casb.alerts.db_log import SqlDeliveryLog
from openai_casb.alerts.delivery_log import DeliveryRecord
from openai_casb.alerts.dispatcher import WebhookDispatcher
from openai_casb.alerts.notify import notify_webhooks
from openai_casb.checks.registry import default_registry
from openai_casb.detections import AssetRef, Detection
from openai_casb.inventory.model import AssetKind
from openai_casb.store import Store

UNUSED_ADMIN_KEY = "49c75a36-1e64-437b-98a1-e54ec35d0a64"
NOW = datetime(2026, 3, 5, tzinfo=UTC)  # the scans below run on 1 to 3 March


def _key(asset_id: str) -> Detection:
    return Detection(UNUSED_ADMIN_KEY, AssetRef(AssetKind.ADMIN_API_KEY, asset_id, name=f"key {asset_id}"),
                     {"redacted_value": "sk-admin...abc"})  # fmt: skip


def _scan(store: Store, integration_id: int, day: int, keys: list[str]) -> int:
    all_types = [check.id for check in default_registry()]
    at = datetime(2026, 3, day, tzinfo=UTC)
    scan_id = store.begin_scan(integration_id, started_at=at)
    store.finish_scan(scan_id, detections=[_key(k) for k in keys], evaluated_type_ids=all_types,
                      complete_type_ids=all_types, finished_at=at)  # fmt: skip
    return scan_id


def _target(receiver: Receiver, **overrides: Any) -> WebhookDestination:
    fields: dict[str, Any] = {"name": "siem", "url": receiver.url, "allow_private": True, "max_attempts": 1}
    return WebhookDestination.model_validate(fields | overrides)


def _after_scan_to(store: Store, targets: list[WebhookDestination], scan_id: int, **options: Any) -> list[Any]:
    """What notify_after_scan does: the scan's events and whatever is pending."""
    log = SqlDeliveryLog(store.engine)
    dispatcher = WebhookDispatcher(targets, log, sleep=lambda _: None, **options)
    try:
        return notify_webhooks(store, targets, log, since_scan_id=scan_id - 1, dispatcher=dispatcher, now=NOW)
    finally:
        dispatcher.close()


def _after_scan(store: Store, target: WebhookDestination, scan_id: int, **options: Any) -> list[Any]:
    return _after_scan_to(store, [target], scan_id, **options)


def _sent_assets(receiver: Receiver) -> list[str]:
    return [json.loads(r.body)["asset"]["id"] for r in receiver.requests]


@pytest.fixture
def acme(store: Store) -> tuple[Store, int]:
    store.sync_finding_types(default_registry().infos())
    return store, store.ensure_integration("org-acme", None, "Acme").id


def test_a_failed_event_is_sent_at_the_next_scans_dispatch(acme: tuple[Store, int]) -> None:
    store, integration_id = acme
    with running_receiver(statuses=[500]) as receiver:
        first = _after_scan(store, _target(receiver), _scan(store, integration_id, 1, ["k1"]))
        second = _after_scan(store, _target(receiver), _scan(store, integration_id, 2, ["k1"]))  # unchanged
        third = _after_scan(store, _target(receiver), _scan(store, integration_id, 3, ["k1"]))
    assert [r.status for r in first] == ["failed"]
    assert [(r.event_id, r.status) for r in second] == [(first[0].event_id, "delivered")]
    assert third == []
    assert _sent_assets(receiver) == ["k1", "k1"]


def test_refused_events_go_out_once_the_destination_is_allowed(acme: tuple[Store, int]) -> None:
    store, integration_id = acme
    with running_receiver() as receiver:
        hidden = _target(receiver, allow_private=False)
        refused = _after_scan(store, hidden, _scan(store, integration_id, 1, ["a", "b"]))
        assert receiver.requests == []
        allowed = _after_scan(store, _target(receiver), _scan(store, integration_id, 2, ["a", "b", "c"]))
    assert [r.status for r in refused] == ["refused", "refused"]
    assert [r.status for r in allowed] == ["delivered"] * 3
    assert _sent_assets(receiver) == ["a", "b", "c"]  # oldest first


def test_a_destination_refused_at_every_dispatch_keeps_one_row_per_event(acme: tuple[Store, int]) -> None:
    """A refusal repeated at every dispatch replaces that event's refusal row (its time and reason
    refreshed) instead of adding one: the log stays one row per (destination, event) while nothing
    is sent, and what goes out once the destination is allowed is unchanged."""
    store, integration_id = acme
    log = SqlDeliveryLog(store.engine)
    with running_receiver() as receiver:
        hidden = _target(receiver, allow_private=False)
        refusals = []
        for day, keys in ((1, ["a", "b"]), (2, ["a", "b", "c"]), (3, ["a", "b", "c"]), (4, ["b", "c", "d"])):
            at = datetime(2026, 3, day, 12, tzinfo=UTC).timestamp()
            refusals.append(_after_scan(store, hidden, _scan(store, integration_id, day, keys), clock=lambda at=at: at))
            rows = log.entries("siem")
            assert len(rows) == len({row.event_id for row in rows})  # one row per event
            assert {row.status for row in rows} == {"refused"}
            times = {row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC) for row in rows}  # SQLite: naive UTC
            assert times == {datetime(2026, 3, day, 12, tzinfo=UTC)}  # refreshed
        assert receiver.requests == []
        # every pending event is refused again at each dispatch, none given up
        assert [len(r) for r in refusals] == [2, 3, 3, 5]  # a, b; + c; -; + a resolved, d
        assert len(log.entries("siem")) == 5
        allowed = _after_scan(store, _target(receiver), _scan(store, integration_id, 5, ["b", "c", "d"]))
    assert [r.status for r in allowed] == ["delivered"] * 5
    assert _sent_assets(receiver) == ["a", "b", "c", "d", "a"]  # oldest first
    assert [row.status for row in log.entries("siem")] == ["refused"] * 5 + ["delivered"] * 5


def test_events_never_tried_by_a_killed_dispatch_go_out_next_time(acme: tuple[Store, int]) -> None:
    store, integration_id = acme

    class Killed(BaseException):
        pass

    class DyingLog(SqlDeliveryLog):
        """The process dies right after the first delivery was recorded."""

        def record(self, entry: DeliveryRecord) -> None:
            super().record(entry)
            raise Killed

    with running_receiver() as receiver:
        target = _target(receiver)
        scan_id = _scan(store, integration_id, 1, ["a", "b", "c"])
        dying = WebhookDispatcher([target], DyingLog(store.engine), sleep=lambda _: None)
        with pytest.raises(Killed):
            notify_webhooks(store, [target], DyingLog(store.engine), since_scan_id=scan_id - 1, dispatcher=dying)
        after = _after_scan(store, target, _scan(store, integration_id, 2, ["a", "b", "c"]))
    assert [r.status for r in after] == ["delivered", "delivered"]
    assert _sent_assets(receiver) == ["a", "b", "c"]


def test_a_stopped_dispatch_leaves_the_rest_pending(acme: tuple[Store, int]) -> None:
    """The circuit breaker stops after three failures in a row; the next dispatch sends everything."""
    store, integration_id = acme
    with running_receiver(statuses=[503, 503, 503]) as receiver:
        stopped = _after_scan(store, _target(receiver), _scan(store, integration_id, 1, ["a", "b", "c", "d", "e"]))
        later = _after_scan(store, _target(receiver), _scan(store, integration_id, 2, ["a", "b", "c", "d", "e"]))
    assert [r.status for r in stopped] == ["failed"] * 3
    assert [r.status for r in later] == ["delivered"] * 5
    assert _sent_assets(receiver) == ["a", "b", "c", "a", "b", "c", "d", "e"]


def test_pending_events_of_another_integration_are_sent_too(acme: tuple[Store, int]) -> None:
    store, acme_id = acme
    other_id = store.ensure_integration("org-other", None, "Other").id
    with running_receiver(statuses=[500]) as receiver:
        _after_scan(store, _target(receiver), _scan(store, other_id, 1, ["o1"]))
        after_acme = _after_scan(store, _target(receiver), _scan(store, acme_id, 2, ["a1"]))
    assert sorted(r.status for r in after_acme) == ["delivered", "delivered"]
    assert sorted(_sent_assets(receiver)[1:]) == ["a1", "o1"]


def test_undelivered_events_are_given_up_after_the_maximum_age(acme: tuple[Store, int]) -> None:
    store, integration_id = acme
    with running_receiver(statuses=[500]) as receiver:
        _after_scan(store, _target(receiver), _scan(store, integration_id, 1, ["old"]))
        scan_id = _scan(store, integration_id, 2, ["old"])
        later = datetime.now(UTC) + notify.MAX_EVENT_AGE + timedelta(days=1)  # failures are recorded at real time
        results = notify_webhooks(store, [_target(receiver)], SqlDeliveryLog(store.engine), since_scan_id=scan_id - 1,
                                  now=later)  # fmt: skip
    assert results == []
    assert len(receiver.requests) == 1


def test_one_dispatch_sends_at_most_the_cap(acme: tuple[Store, int], monkeypatch: pytest.MonkeyPatch) -> None:
    store, integration_id = acme
    monkeypatch.setattr(notify, "MAX_EVENTS_PER_DISPATCH", 2)
    with running_receiver() as receiver:
        first = _after_scan(store, _target(receiver), _scan(store, integration_id, 1, ["a", "b", "c"]))
        second = _after_scan(store, _target(receiver), _scan(store, integration_id, 2, ["a", "b", "c"]))
    assert (len(first), len(second)) == (2, 1)
    assert _sent_assets(receiver) == ["a", "b", "c"]


def test_events_a_filter_excludes_do_not_take_the_cap(acme: tuple[Store, int], monkeypatch: pytest.MonkeyPatch) -> None:
    store, integration_id = acme
    monkeypatch.setattr(notify, "MAX_EVENTS_PER_DISPATCH", 1)
    with running_receiver() as receiver:
        target = _target(receiver, filters={"event_types": ["resolved"]})
        _after_scan(store, target, _scan(store, integration_id, 1, ["a", "b", "c"]))
        resolved = _after_scan(store, target, _scan(store, integration_id, 2, []))
        again = _after_scan(store, target, _scan(store, integration_id, 3, []))
    assert [r.status for r in resolved] == ["delivered"]
    assert [r.status for r in again] == ["delivered"]
    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["finding.resolved"] * 2


def test_each_destination_gets_its_own_pending_events(acme: tuple[Store, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """Destinations pending from different events, with different filters, each under its own cap."""
    store, integration_id = acme
    monkeypatch.setattr(notify, "MAX_EVENTS_PER_DISPATCH", 4)
    with running_receiver(statuses=[500, 500, 500]) as down, running_receiver() as up, \
            running_receiver() as resolved:  # fmt: skip
        targets = [
            _target(down, name="down"),
            _target(up, name="up"),
            _target(resolved, name="resolved", filters={"event_types": ["resolved"]}),
        ]
        first = _after_scan_to(store, targets, _scan(store, integration_id, 1, ["a", "b", "c"]))
        second = _after_scan_to(store, targets, _scan(store, integration_id, 2, ["a"]))  # b and c resolved
    assert [(r.destination, r.status) for r in first] == [("down", "failed")] * 3 + [("up", "delivered")] * 3
    # "down" is pending from a's opening, so its cap of 4 ends at b's resolution; "up" from the new events.
    assert [(r.destination, r.status) for r in second] == [("down", "delivered")] * 4 + [("up", "delivered")] * 2 + [
        ("resolved", "delivered")
    ] * 2
    assert [json.loads(r.body)["type"] for r in down.requests[3:]] == ["finding.detected"] * 3 + ["finding.resolved"]
    assert _sent_assets(down) == ["a", "b", "c", "a", "b", "c", "b"]
    assert _sent_assets(up) == ["a", "b", "c", "b", "c"]
    assert _sent_assets(resolved) == ["b", "c"]


def _counting_reads(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """The `after_event_id` of every page of events read (not the lookup of where new events begin)."""
    reads: list[int | None] = []
    events = store.events

    def counted(since_scan_id: int | None = None, **options: Any) -> Any:
        if since_scan_id is None:
            reads.append(options.get("after_event_id"))
        return events(since_scan_id, **options)

    monkeypatch.setattr(store, "events", counted)
    return reads


def test_a_dispatch_reads_the_event_pages_once_for_all_destinations(
    acme: tuple[Store, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, integration_id = acme
    monkeypatch.setattr(notify, "_PAGE", 2)
    scan_id = _scan(store, integration_id, 1, ["a", "b", "c", "d", "e"])
    reads = _counting_reads(store, monkeypatch)
    with running_receiver() as receiver:
        targets = [_target(receiver, name=name) for name in ("one", "two", "three")]
        results = _after_scan_to(store, targets, scan_id)
    assert [(r.destination, r.status) for r in results] == [
        (name, "delivered") for name in ("one", "two", "three") for _ in range(5)
    ]
    assert reads == [0, 2, 4]  # three pages of two events, each read once (three times each before)


def test_pages_no_destination_still_wants_are_not_read(
    acme: tuple[Store, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the destination pending from the oldest event has its cap, reading skips to the next start."""
    store, integration_id = acme
    monkeypatch.setattr(notify, "_PAGE", 2)
    with running_receiver(statuses=[500, 500, 500]) as down, running_receiver() as up:
        targets = [_target(down, name="down"), _target(up, name="up")]
        _after_scan_to(store, targets, _scan(store, integration_id, 1, ["a", "b", "c"]))  # events 1-3
        monkeypatch.setattr(notify, "MAX_EVENTS_PER_DISPATCH", 2)
        scan_id = _scan(store, integration_id, 2, ["a"])  # events 4 and 5: b and c resolved
        reads = _counting_reads(store, monkeypatch)
        results = _after_scan_to(store, targets, scan_id)
    # "down" is pending from event 1 (its cap: 1 and 2), "up" from event 4; event 3 is nobody's now.
    assert [(r.destination, r.event_id) for r in results] == [("down", "1"), ("down", "2"), ("up", "4"), ("up", "5")]
    assert reads == [0, 3]  # events 1-2, then 4-5; then both have their cap: nothing more is read
