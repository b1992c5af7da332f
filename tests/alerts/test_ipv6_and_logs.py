"""IPv6 literal destinations, and webhook URLs (their paths are secrets) kept out of the logs."""

from __future__ import annotations

import logging
import logging.config
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from webhook_receiver import running_receiver

from openai_casb.alerts.config import WebhookDestination
from openai_casb.alerts.delivery_log import InMemoryDeliveryLog
from openai_casb.alerts.dispatcher import WebhookDispatcher
from openai_casb.alerts.netguard import DestinationRefused, check_destination
from openai_casb.cli import serve_cmd, worker_cmd
from openai_casb.cli.common import HTTP_CLIENT_LOGGERS

sys.path.insert(0, str(Path(__file__).parent.parent / "exports"))
from export_fixtures import sample_events


def _unresolvable(host: str, port: int) -> list[str]:
    raise socket.gaierror(f"no such host {host}")  # a literal must never need resolving


@pytest.mark.parametrize("host", ["[::1]", "[fc00::5]", "[fd12:3456::1]", "[fe80::1]", "[::ffff:127.0.0.1]",
                                  "[::ffff:10.0.0.1]", "[2002:7f00:1::]", "[::]", "127.0.0.1"])  # fmt: skip
def test_internal_ip_literals_are_refused_unless_allowed(host: str) -> None:
    with pytest.raises(DestinationRefused, match="internal address"):
        check_destination(host, 443, allow_private=False, resolver=_unresolvable)
    assert check_destination(host, 443, allow_private=True, resolver=_unresolvable)


def test_a_public_ipv6_literal_is_allowed() -> None:
    assert check_destination("[2606:4700:4700::1111]", 443, False, _unresolvable) == ["2606:4700:4700::1111"]


class _Ok(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        _Ok.requests.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


@pytest.fixture
def v6_receiver() -> Iterator[str]:
    try:
        server = _V6Server(("::1", 0), _Ok)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    _Ok.requests = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://[::1]:{server.server_address[1]}/hooks/v6"
    server.shutdown()
    server.server_close()


def test_an_ipv6_literal_destination_is_delivered_to_when_allowed(v6_receiver: str) -> None:
    target = WebhookDestination.model_validate({"name": "v6", "url": v6_receiver, "allow_private": True})
    dispatcher = WebhookDispatcher([target], InMemoryDeliveryLog(), sleep=lambda _: None)
    results = dispatcher.dispatch(sample_events()[:1])
    dispatcher.close()
    assert [r.status for r in results] == ["delivered"]
    assert _Ok.requests == ["/hooks/v6"]


@pytest.fixture
def http_logger_levels() -> Iterator[None]:
    saved = {name: logging.getLogger(name).level for name in HTTP_CLIENT_LOGGERS}
    for name in saved:
        logging.getLogger(name).setLevel(logging.NOTSET)
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def _deliver_and_capture(url: str, caplog: pytest.LogCaptureFixture) -> str:
    target = WebhookDestination.model_validate({"name": "siem", "url": url, "allow_private": True})
    dispatcher = WebhookDispatcher([target], InMemoryDeliveryLog(), sleep=lambda _: None)
    with caplog.at_level(logging.DEBUG):  # Celery's --loglevel, at its most verbose
        results = dispatcher.dispatch(sample_events()[:1])
    dispatcher.close()
    assert [r.status for r in results] == ["delivered"]
    return caplog.text


class _FakeCelery:
    def __init__(self) -> None:
        self.argv: list[str] = []

    def worker_main(self, argv: list[str]) -> None:
        self.argv = argv

    def start(self, argv: list[str]) -> None:
        self.argv = argv


@pytest.mark.parametrize(
    ("command", "options"),
    [("worker", {"concurrency": 1, "pool": "solo", "loglevel": "DEBUG", "hostname": None}),
     ("scheduler", {"loglevel": "DEBUG"})],
)  # fmt: skip
def test_worker_and_scheduler_logs_never_show_a_webhook_path(
    command: str, options: dict[str, Any], http_logger_levels: None, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, v4_receiver: str,
) -> None:  # fmt: skip
    fake = _FakeCelery()
    monkeypatch.setattr(worker_cmd, "_celery_app", lambda: fake)
    monkeypatch.setattr(worker_cmd, "_check_policy", lambda: None)
    if command == "scheduler":
        options = options | {"schedule_file": tmp_path / "beat"}
    getattr(worker_cmd, command)(**options)
    assert fake.argv  # the command started Celery (here, a stand-in that returns at once)
    assert "hooks/casb" not in _deliver_and_capture(v4_receiver, caplog)


def test_serve_logging_never_shows_a_webhook_path(
    http_logger_levels: None, caplog: pytest.LogCaptureFixture, v4_receiver: str
) -> None:
    config = serve_cmd.serve_log_config()
    # dictConfig sets levels, handlers and propagation of these loggers (openai_casb at INFO):
    # all of it is put back, or later tests capturing DEBUG lines of openai_casb get none.
    saved = {name: _logger_state(logging.getLogger(name)) for name in ("", *config["loggers"])}
    logging.config.dictConfig(config)
    try:
        text = _deliver_and_capture(v4_receiver, caplog)
    finally:
        for name, (level, propagate, handlers, disabled) in saved.items():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            logger.propagate, logger.handlers, logger.disabled = propagate, handlers, disabled
    assert "hooks/casb" not in text


def _logger_state(logger: logging.Logger) -> tuple[int, bool, list[logging.Handler], bool]:
    return logger.level, logger.propagate, list(logger.handlers), logger.disabled


@pytest.fixture
def v4_receiver() -> Iterator[str]:
    with running_receiver() as receiver:
        yield receiver.url


def test_the_capture_itself_sees_httpx_request_lines(
    http_logger_levels: None, caplog: pytest.LogCaptureFixture, v4_receiver: str
) -> None:
    """Without the commands' setup, httpx does log the full URL: the tests above would see it."""
    assert "hooks/casb" in _deliver_and_capture(v4_receiver, caplog)

