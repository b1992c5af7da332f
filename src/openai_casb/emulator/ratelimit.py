"""Rolling-window request quotas.

Rule (mirrored by the client's limiter, documented in docs/emulator.md): at most N admitted
requests in any rolling 60-second window per (API key, endpoint template). A refused request
(429) does not take a slot. Retry-After is the whole number of seconds, rounded up and at least
1, until the oldest admitted request in the window leaves it.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class RollingWindowLimiter:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._admitted: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def try_acquire(self, key: str, template: str, quota: int) -> int | None:
        """Admit the request (None) or return the Retry-After seconds."""
        now = self._clock()
        with self._lock:
            window = self._admitted.setdefault((key, template), deque())
            while window and window[0] <= now - WINDOW_SECONDS:
                window.popleft()
            if len(window) < quota:
                window.append(now)
                return None
            return max(1, math.ceil(window[0] + WINDOW_SECONDS - now))
