"""Serving the emulator with uvicorn, in the foreground (CLI) or a background thread (tests, benchmarks)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import uvicorn

from openai_casb.emulator.app import create_app
from openai_casb.emulator.config import EmulatorConfig
from openai_casb.emulator.org import Org

STARTUP_TIMEOUT_SECONDS = 10.0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunningEmulator:
    base_url: str
    admin_key: str
    compliance_key: str
    workspace_id: str
    organization_id: str
    _app: Any

    def stats(self) -> dict[str, Any]:
        snapshot: dict[str, Any] = self._app.stats.snapshot()
        return snapshot

    def __repr__(self) -> str:
        return f"RunningEmulator(base_url={self.base_url!r}, workspace_id={self.workspace_id!r})"


def uvicorn_config(app: Any, host: str, port: int, log_level: str = "warning") -> uvicorn.Config:
    # The h11 protocol keeps `send.__self__.transport`, which the `reset` fault uses to drop a connection.
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, lifespan="off", http="h11")


@contextmanager
def running_emulator(org: Org, config: EmulatorConfig | None = None) -> Iterator[RunningEmulator]:
    """Serve `org` on a free loopback port (or config.port) in a background thread until the block ends."""
    config = config or EmulatorConfig()
    port = config.port or free_port(config.host)
    config = replace(config, port=port)
    app = create_app(org, config)
    server = uvicorn.Server(uvicorn_config(app, config.host, port))
    thread = threading.Thread(target=server.run, name="openai-casb-emulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the emulator did not start on {config.host}:{port}")
        time.sleep(0.01)
    try:
        yield RunningEmulator(
            base_url=f"http://{config.host}:{port}",
            admin_key=config.admin_key,
            compliance_key=config.compliance_key,
            workspace_id=org.workspace_id,
            organization_id=org.organization_id,
            _app=app,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_SECONDS)
