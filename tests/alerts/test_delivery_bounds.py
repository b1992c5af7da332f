"""A delivery is bounded: in time (however slowly the receiver answers), in memory, and in what a
receiver's answer can do; a receiver that is down costs a dispatch a few failures, not every event."""

from __future__ import annotations

import gzip
import logging
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from openai_casb.alerts.config import WebhookDestination
from openai_casb.alerts.delivery_log import InMemoryDeliveryLog
from openai_casb.alerts.dispatcher import MAX_RESPONSE_BYTES, WebhookDispatcher

sys.path.insert(0, str(Path(__file__).parent.parent / "exports"))
from export_fixtures import sample_events


@dataclass
class RawServer:
    url: str
    sent: int = 0  # bytes of the answer written before the client went away
    cut_off: bool = False  # the client closed the connection before the whole answer was written


@contextmanager
def raw_server(answer: Callable[[socket.socket, RawServer], None]) -> Iterator[RawServer]:
    """A loopback server that reads a request's head and body, then lets `answer` write raw bytes."""
    listener = socket.create_server(("127.0.0.1", 0))
    state = RawServer(url=f"http://127.0.0.1:{listener.getsockname()[1]}/hooks/secret-path")
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(30)
                data = b""
                while b"\r\n\r\n" not in data:
                    data += connection.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))  # fmt: skip
                while len(body) < length:
                    body += connection.recv(65536)
                try:
                    answer(connection, state)
                except OSError:
                    state.cut_off = True

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        thread.join(timeout=60)
        listener.close()


def _dispatcher(**options: Any) -> WebhookDispatcher:
    return WebhookDispatcher([], InMemoryDeliveryLog(), sleep=lambda _: None, **options)


def _target(url: str, **overrides: Any) -> WebhookDestination:
    fields: dict[str, Any] = {"name": "siem", "url": url, "allow_private": True, "max_attempts": 1}
    return WebhookDestination.model_validate(fields | overrides)


def _send(target: WebhookDestination, **options: Any) -> list[Any]:
    dispatcher = WebhookDispatcher([target], InMemoryDeliveryLog(), sleep=lambda _: None, **options)
    try:
        return dispatcher.dispatch(sample_events()[:1])
    finally:
        dispatcher.close()


def test_a_receiver_trickling_its_answer_head_is_cut_off_at_the_timeout() -> None:
    """httpx's timeout is per read: one byte every 0.1 s never trips it. The deadline does."""

    def trickle(connection: socket.socket, state: RawServer) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Padding: " + b"x" * 60 + b"\r\n\r\n":
            connection.sendall(bytes([byte]))
            state.sent += 1
            threading.Event().wait(0.1)

    with raw_server(trickle) as server:
        (result,) = _send(_target(server.url, timeout_seconds=1))
    assert (result.status, result.error) == ("failed", "ReadTimeout")
    assert server.cut_off


def test_a_body_trickling_after_a_2xx_is_not_waited_for() -> None:
    def trickle(connection: socket.socket, state: RawServer) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):
            connection.sendall(b"x")
            state.sent += 1
            threading.Event().wait(0.1)

    with raw_server(trickle) as server:
        (result,) = _send(_target(server.url, timeout_seconds=1))
    assert result.status == "delivered"
    assert server.cut_off  # the client left before the 10 s of body were sent


def test_a_huge_answer_is_not_read() -> None:
    total = 256 * 1024 * 1024

    def flood(connection: socket.socket, state: RawServer) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % total)
        chunk = b"x" * 65536
        while state.sent < total:
            connection.sendall(chunk)
            state.sent += len(chunk)

    with raw_server(flood) as server:
        (result,) = _send(_target(server.url))
    assert result.status == "delivered"
    assert server.cut_off
    assert server.sent < total // 4  # far less than the answer: what the socket buffers took, not the body
    assert MAX_RESPONSE_BYTES <= 64 * 1024


def test_an_answer_that_does_not_decode_counts_by_its_status() -> None:
    """A 200 claiming gzip with a body that is not: httpx.DecodingError used to escape the dispatch."""
    answers = [b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot gzip!",
               b"HTTP/1.1 500 Oops\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot gzip!"]  # fmt: skip
    assert gzip.compress(b"x")[:2] != b"no"

    def answer(connection: socket.socket, state: RawServer) -> None:
        connection.sendall(answers.pop(0) if len(answers) > 1 else answers[0])

    with raw_server(answer) as server:
        dispatcher = WebhookDispatcher([_target(server.url)], InMemoryDeliveryLog(), sleep=lambda _: None)
        results = dispatcher.dispatch(sample_events()[:2])
        dispatcher.close()
    assert [(r.status, r.http_status) for r in results] == [("delivered", 200), ("failed", 500)]


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/hooks/secret-path"


def test_a_receiver_that_is_down_trips_the_circuit_breaker(caplog: pytest.LogCaptureFixture) -> None:
    sleeps: list[float] = []
    target = _target(_closed_port_url(), max_attempts=4)  # the defaults: 4 attempts, 1 s backoff
    dispatcher = WebhookDispatcher([target], InMemoryDeliveryLog(), sleep=sleeps.append)
    with caplog.at_level(logging.WARNING):
        results = dispatcher.dispatch(sample_events())
    dispatcher.close()
    assert [(r.event_id, r.status, r.attempts) for r in results] == [
        ("ev-1", "failed", 4), ("ev-2", "failed", 4), ("ev-3", "failed", 4),
    ]  # fmt: skip
    assert sleeps == [1.0, 2.0, 4.0] * 3  # ev-4 and ev-5 were not tried
    assert "2 event(s) left for the next dispatch" in caplog.text
    assert "secret-path" not in caplog.text


def test_a_dispatch_stops_when_its_time_is_up() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    target = _target(_closed_port_url(), max_attempts=10, backoff_seconds=1)
    dispatcher = WebhookDispatcher([target], InMemoryDeliveryLog(), sleep=sleep, monotonic=lambda: now[0],
                                   max_dispatch_seconds=5, breaker_failures=10)  # fmt: skip
    results = dispatcher.dispatch(sample_events())
    dispatcher.close()
    # attempts at 0 s, 1 s and 3 s; the next pause (4 s) would end after the dispatch's 5 s
    assert [(r.event_id, r.attempts) for r in results] == [("ev-1", 3)]
    assert now[0] == 3.0


def test_notify_after_scan_never_fails_the_scan(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    import httpx

    from openai_casb.policy import parse_policy
    from openai_casb.scanning import run
    from openai_casb.store import Store

    def broken(*_: object, **__: object) -> list[Any]:
        raise httpx.DecodingError("Error -3 while decoding http://127.0.0.1/hooks/secret-path")

    monkeypatch.setattr(run, "notify_webhooks", broken)
    text = "version: 1\nwebhooks:\n  - name: soc\n    url: https://hooks.example/secret-path\n"
    policy = parse_policy(text, "p.yaml")
    with Store.open(str(tmp_path / "db.sqlite")) as store, caplog.at_level(logging.WARNING):
        run.notify_after_scan(store, policy, integration_id=1, scan_id=1)
    assert [r.getMessage() for r in caplog.records] == [
        "webhooks after scan 1 (integration 1) not sent: DecodingError"
    ]
