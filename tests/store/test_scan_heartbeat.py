"""One scan of an integration at a time: a running scan with a fresh heartbeat refuses a second
begin_scan; one whose heartbeat aged past the stale timeout is dead, and is marked interrupted."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from store_helpers import ALL_TYPES, key, scan

from openai_casb.store import (
    SCAN_STALE_AFTER,
    SCAN_STALE_ENV,
    Integration,
    ScanNotRunningError,
    ScanRunningError,
    ScanStatus,
    Store,
    StoreError,
)
from openai_casb.store.repository import stale_after_from_env
from openai_casb.store.schema import ScanRow

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock(store: Store) -> Clock:
    fake = Clock(T)
    store.clock = fake
    store.scan_stale_after = timedelta(minutes=5)
    return fake


def statuses(store: Store) -> dict[int, ScanStatus]:
    return {s.id: s.status for s in store.list_scans()}


def heartbeat_of(store: Store, scan_id: int) -> datetime | None:
    with store._session() as session:
        row = session.get(ScanRow, scan_id)
        assert row is not None
        return row.heartbeat_at


def test_a_second_scan_is_refused_while_the_first_beats(store: Store, integration: Integration, clock: Clock) -> None:
    first = store.begin_scan(integration.id)
    clock.advance(timedelta(minutes=4))
    with pytest.raises(ScanRunningError) as raised:
        store.begin_scan(integration.id)
    error = raised.value
    assert isinstance(error, StoreError)
    assert (error.integration_id, error.scan_id, error.heartbeat_at) == (integration.id, first, T)
    assert str(error).startswith(f"a scan of Acme is running (scan {first}, started 2026-03-01 12:00:00 UTC, "
                                 "last heartbeat 240 s ago)")
    assert "\n" not in str(error)
    assert statuses(store) == {first: ScanStatus.RUNNING}  # untouched, and no second scan recorded

    # The first scan finishes normally: its results are stored.
    summary = store.finish_scan(first, detections=[key("k1")], evaluated_type_ids=ALL_TYPES,
                                complete_type_ids=ALL_TYPES)
    assert summary.new == 1
    second = store.begin_scan(integration.id)  # nothing runs now
    assert statuses(store) == {first: ScanStatus.COMPLETE, second: ScanStatus.RUNNING}


def test_a_scan_whose_heartbeat_aged_is_interrupted(store: Store, integration: Integration, clock: Clock) -> None:
    first = store.begin_scan(integration.id)
    clock.advance(timedelta(minutes=5))  # exactly the timeout: dead
    second = store.begin_scan(integration.id)
    assert statuses(store) == {first: ScanStatus.INTERRUPTED, second: ScanStatus.RUNNING}
    assert heartbeat_of(store, second) == clock.now

    # The dead scan, should it wake up, cannot store its results, and says why in one line.
    with pytest.raises(ScanNotRunningError, match=f"scan {first} was marked interrupted") as raised:
        store.finish_scan(first, detections=[key("k1")], evaluated_type_ids=ALL_TYPES, complete_type_ids=ALL_TYPES)
    assert "\n" not in str(raised.value)
    with pytest.raises(ScanNotRunningError):
        store.fail_scan(first, "too late")
    assert store.count_instances() == 0


def test_touch_scan_keeps_a_long_scan_alive(store: Store, integration: Integration, clock: Clock) -> None:
    first = store.begin_scan(integration.id)
    for _ in range(6):  # 24 minutes, a beat every 4
        clock.advance(timedelta(minutes=4))
        assert store.touch_scan(first) is True
    assert heartbeat_of(store, first) == clock.now
    with pytest.raises(ScanRunningError):
        store.begin_scan(integration.id)
    clock.advance(timedelta(minutes=6))  # the process died: no more beats
    second = store.begin_scan(integration.id)
    assert statuses(store)[first] == ScanStatus.INTERRUPTED
    # An interrupted scan's heartbeat is not revived, nor is a finished one's.
    assert store.touch_scan(first) is False
    assert statuses(store)[first] == ScanStatus.INTERRUPTED
    store.fail_scan(second, "stopped")
    assert store.touch_scan(second) is False


def test_other_integrations_are_not_blocked(store: Store, integration: Integration, clock: Clock) -> None:
    other = store.ensure_integration("org-other", None, "Other")
    first = store.begin_scan(integration.id)
    second = store.begin_scan(other.id)
    assert statuses(store) == {first: ScanStatus.RUNNING, second: ScanStatus.RUNNING}


def test_a_scan_recorded_before_heartbeats_counts_from_its_start(
    store: Store, integration: Integration, clock: Clock
) -> None:
    old = store.begin_scan(integration.id, started_at=T)
    with store._session(write=True) as session:
        session.execute(update(ScanRow).where(ScanRow.id == old).values(heartbeat_at=None))
    clock.advance(timedelta(minutes=1))
    with pytest.raises(ScanRunningError):
        store.begin_scan(integration.id)
    clock.advance(timedelta(minutes=5))
    store.begin_scan(integration.id)
    assert statuses(store)[old] == ScanStatus.INTERRUPTED


def test_two_stores_beginning_at_once_start_one_scan(db_url: str, integration: Integration, store: Store) -> None:
    """Two processes (here: two engines) racing: one scan starts, the other is refused (PostgreSQL: row lock)."""
    stores = [Store.open(db_url) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def begin(other: Store) -> None:
        barrier.wait()
        try:
            outcomes.append(other.begin_scan(integration.id))
        except ScanRunningError as exc:
            outcomes.append(exc)

    try:
        threads = [threading.Thread(target=begin, args=(s,)) for s in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for opened in stores:
            opened.close()
    assert sorted(type(o).__name__ for o in outcomes) == ["ScanRunningError", "int"]
    assert list(statuses(store).values()) == [ScanStatus.RUNNING]


def test_stale_timeout_from_the_environment() -> None:
    assert stale_after_from_env({}) == SCAN_STALE_AFTER == timedelta(minutes=5)
    assert stale_after_from_env({SCAN_STALE_ENV: "0"}) == timedelta(0)
    assert stale_after_from_env({SCAN_STALE_ENV: " 90 "}) == timedelta(seconds=90)
    with pytest.raises(StoreError, match=SCAN_STALE_ENV):
        stale_after_from_env({SCAN_STALE_ENV: "soon"})
    with pytest.raises(StoreError, match="negative"):
        stale_after_from_env({SCAN_STALE_ENV: "-1"})


def test_scans_finished_by_the_helpers_still_chain(store: Store, integration: Integration, clock: Clock) -> None:
    """Scans begun and finished one after the other never meet a running one."""
    for n in range(3):
        scan(store, integration.id, [key(f"k{n}")], T + timedelta(days=n))
    assert set(statuses(store).values()) == {ScanStatus.COMPLETE}
