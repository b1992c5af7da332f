"""A callable run every so often in a daemon thread while a block runs: the heartbeats of scans."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def repeating(interval: float, action: Callable[[], bool | None], name: str) -> Iterator[None]:
    """Call `action` every `interval` seconds until the block ends, or until it returns False.

    A thread rather than an asyncio task, so that a long synchronous step on the event loop (the
    store's transaction) does not stop it; a process that dies stops it with it.
    """
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            if action() is False:
                return

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
