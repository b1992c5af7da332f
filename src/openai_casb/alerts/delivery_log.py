"""Which events were delivered to which destination: the webhooks' idempotency record."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

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

    def record(self, entry: DeliveryRecord) -> None: ...


class InMemoryDeliveryLog:
    """For tests and one-shot CLI runs; a process restart forgets everything."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._delivered: set[tuple[str, str]] = set()
        self.entries: list[DeliveryRecord] = []

    def was_delivered(self, destination: str, event_id: str) -> bool:
        with self._lock:
            return (destination, event_id) in self._delivered

    def record(self, entry: DeliveryRecord) -> None:
        with self._lock:
            self.entries.append(entry)
            if entry.status == "delivered":
                self._delivered.add((entry.destination, entry.event_id))
