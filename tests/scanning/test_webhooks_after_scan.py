"""Webhooks in the policy file receive a scan's lifecycle changes, signed, and never the same one twice."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from openai_casb.alerts.signing import verify_signature
from openai_casb.policy import parse_policy
from openai_casb.store import Store
from tests.scanning.test_lifecycle_across_scans import scan, snapshot

SECRET = "whsec-test-0123456789"


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def test_scan_sends_new_findings_once(receiver: str, tmp_path: Path) -> None:
    policy = parse_policy(
        f"version: 1\nwebhooks:\n  - name: soc\n    url: {receiver}\n    secret: {SECRET}\n    allow_private: true\n",
        "policy.yaml",
    )
    store = Store.open(str(tmp_path / "db.sqlite"))
    scan(snapshot(), store, policy=policy)
    first = list(Receiver.received)
    assert first, "the first scan detects three findings and must say so"
    events = []
    for headers, body in first:
        signature = {k.lower(): v for k, v in headers.items()}["x-openai-casb-signature"]
        assert verify_signature(SECRET, signature, body, now=int(time.time()))
        events.append(json.loads(body))
    text = json.dumps(events)
    assert "g-public" in text
    assert "detected" in text

    scan(snapshot(), store, policy=policy)  # nothing changed: nothing to send
    assert Receiver.received == first
