"""Request counters served at `/_emulator/stats`."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()
        self._by_endpoint_status: dict[str, Counter[str]] = {}
        self._faults: Counter[str] = Counter()
        self.refused_non_get = 0
        self.rate_limited = 0

    def record(self, method: str, template: str, status: int) -> None:
        endpoint = f"{method} {template}"
        with self._lock:
            self._requests[endpoint] += 1
            self._statuses[str(status)] += 1
            self._by_endpoint_status.setdefault(endpoint, Counter())[str(status)] += 1

    def refused(self) -> None:
        with self._lock:
            self.refused_non_get += 1

    def throttled(self) -> None:
        with self._lock:
            self.rate_limited += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self._requests),
                "statuses": dict(self._statuses),
                "by_endpoint_status": {k: dict(v) for k, v in self._by_endpoint_status.items()},
                "refused_non_get": self.refused_non_get,
                "rate_limited": self.rate_limited,
                "faults": dict(self._faults),
                "total": sum(self._requests.values()),
            }
