"""Client-side quotas: at most N requests in any rolling window per endpoint template.

The APIs count requests per (key, endpoint template) in a rolling 60 s window. Pacing ourselves at
the documented quota means a steady scan never provokes a 429. A small margin is added to the
window because the server stamps a request when it arrives, a little after we send it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class RollingWindowLimiter:
    """Per-key rolling-window limiter. `acquire(key, limit)` waits until one more request fits."""

    def __init__(
        self,
        window_seconds: float,
        *,
        margin_seconds: float = 0.05,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._window = window_seconds + margin_seconds
        self._clock = clock
        self._sleep = sleep
        self._sent: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def acquire(self, key: str, limit: int) -> None:
        lock = self._locks.setdefault(key, asyncio.Lock())
        # One waiter per key at a time keeps the order fair and the arithmetic simple.
        async with lock:
            sent = self._sent.setdefault(key, deque())
            while True:
                now = self._clock()
                while sent and now - sent[0] >= self._window:
                    sent.popleft()
                if len(sent) < limit:
                    sent.append(now)
                    return
                # At least a millisecond, so float rounding cannot spin on a zero-length wait.
                await self._sleep(max(self._window - (now - sent[0]), 0.001))

    def sent_in_window(self, key: str) -> int:
        now = self._clock()
        return sum(1 for stamp in self._sent.get(key, ()) if now - stamp < self._window)
