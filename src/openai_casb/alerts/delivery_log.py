"""Which events were delivered to which destination: the webhooks' idempotency record."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

DeliveryStatus = Literal["delivered", "failed", "refused"]


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    destination: str
    event_id: str
    status: DeliveryStatus
    attempts: int
    at: datetime
    http_status: int | None = None
    error: str | None = None  # never a URL or a secret: exception class names and HTTP statuses only


class DeliveryLog(Protocol):
    def was_delivered(self, destination: str, event_id: str) -> bool:
        """True once `record` saw a `delivered` record for this pair."""
        ...

    def record(self, entry: DeliveryRecord) -> None:
        """Add `entry`; a `refused` one replaces the pair's latest record when that is a refusal too.

        A refused destination is refused again at every dispatch while nothing is sent: its events
        keep one record each (the latest refusal, time and reason refreshed), not one per dispatch.
        """
        ...


@runtime_checkable
class DeliveryProgress(Protocol):
    """What `notify_webhooks` asks a delivery log to find each destination's undelivered events.

    Both logs here implement it; a `DeliveryLog` without it gets only the latest scan's events.
    """

    def undelivered_since(self, destination: str, since: datetime) -> set[str]:
        """Event ids with a record at or after `since` (failed or refused) and none `delivered`."""
        ...

    def last_recorded(self, destination: str) -> tuple[str, datetime] | None:
        """The event id and time of the destination's most recent record, whatever its status."""
        ...

    def delivered_among(self, destination: str, event_ids: Iterable[str]) -> set[str]:
        """Those of `event_ids` delivered to the destination."""
        ...


class InMemoryDeliveryLog:
    """For tests and one-shot CLI runs; a process restart forgets everything."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._delivered: set[tuple[str, str]] = set()
        self._latest: dict[tuple[str, str], DeliveryRecord] = {}
        self.entries: list[DeliveryRecord] = []

    def was_delivered(self, destination: str, event_id: str) -> bool:
        with self._lock:
            return (destination, event_id) in self._delivered

    def record(self, entry: DeliveryRecord) -> None:
        with self._lock:
            pair = (entry.destination, entry.event_id)
            latest = self._latest.get(pair)
            if entry.status == "refused" and latest is not None and latest.status == "refused":
                # the same refusal again: it replaces that record (found by identity: an earlier,
                # equal refusal may come before a failure in between)
                index = next(i for i in range(len(self.entries) - 1, -1, -1) if self.entries[i] is latest)
                del self.entries[index]
            self.entries.append(entry)
            self._latest[pair] = entry
            if entry.status == "delivered":
                self._delivered.add((entry.destination, entry.event_id))

    def undelivered_since(self, destination: str, since: datetime) -> set[str]:
        with self._lock:
            return {
                e.event_id
                for e in self.entries
                if e.destination == destination and e.at >= since and (destination, e.event_id) not in self._delivered
            }

    def last_recorded(self, destination: str) -> tuple[str, datetime] | None:
        with self._lock:
            return next(((e.event_id, e.at) for e in reversed(self.entries) if e.destination == destination), None)

    def delivered_among(self, destination: str, event_ids: Iterable[str]) -> set[str]:
        with self._lock:
            return {event_id for event_id in event_ids if (destination, event_id) in self._delivered}
