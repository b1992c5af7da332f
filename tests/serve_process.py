"""Talking to an `openai-casb serve` process started in the background by a test."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import httpx

START_UP_BOUND = 60  # seconds: a bound on start-up, not a timing assertion


def request_when_serving(server: subprocess.Popen[str], method: str, url: str, **kwargs: Any) -> httpx.Response:
    """`method` `url` once the server listens: retried while the connection is refused, failing the
    test if the server exits or does not listen within START_UP_BOUND."""
    deadline = time.monotonic() + START_UP_BOUND
    while True:
        try:
            return httpx.request(method, url, **kwargs)
        except httpx.TransportError:
            assert server.poll() is None, "serve exited"
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
