"""`openai-casb serve` believes X-Forwarded-For only from the proxies named by --forwarded-allow-ips
(docs/deployment.md, "Security"): behind one, failed logins are counted per real client; without the
flag, or from any other peer, the header is ignored."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tests.serve_process import request_when_serving

from conftest import csrf_of
from openai_casb.cli.serve_cmd import parse_forwarded_allow_ips, proxy_settings

CLI = [sys.executable, "-m", "openai_casb.cli"]
ENV = {**os.environ, "OPENAI_CASB_SECRET_KEY": "k" * 48}
PORTS = iter(range(20710, 20740))  # this suite's private range


@contextmanager
def _serve(db: str, *flags: str) -> Iterator[tuple[str, list[str]]]:
    port = next(PORTS)
    server = subprocess.Popen([*CLI, "serve", "--db", db, "--host", "127.0.0.1", "--port", str(port),
                               "--insecure-cookies", *flags],
                              env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err: list[str] = []
    try:
        base = f"http://127.0.0.1:{port}"
        request_when_serving(server, "GET", f"{base}/login")
        yield base, err
    finally:
        server.terminate()
        err.append(server.communicate(timeout=30)[1])


def _fail_login(base: str, forwarded_for: str) -> None:
    with httpx.Client(base_url=base) as client:
        csrf = csrf_of(client.get("/login").text)
        answer = client.post("/login", data={"csrf": csrf, "username": "alice", "password": "wrong password!"},
                             headers={"X-Forwarded-For": forwarded_for})
    assert answer.status_code == 401, answer.text


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "web.db")
    subprocess.run([*CLI, "users", "create", "alice", "--role", "admin", "--password-stdin", "--db", path],
                   input="a long password 123\n", env=ENV, capture_output=True, text=True, timeout=120, check=True)
    return path


def test_a_listed_proxy_gives_the_client_address(db: str) -> None:
    with _serve(db, "--forwarded-allow-ips", "127.0.0.1") as (base, err):
        # The client's own entry (left) is not believed: the right-most address that is not the proxy is.
        _fail_login(base, "198.51.100.9, 203.0.113.7")
    assert "failed dashboard login for 'alice' from 203.0.113.7" in err[0]


def test_the_header_is_ignored_by_default(db: str) -> None:
    with _serve(db) as (base, err):
        _fail_login(base, "203.0.113.7")
    assert "failed dashboard login for 'alice' from 127.0.0.1" in err[0]
    assert "203.0.113.7" not in err[0]


def test_the_header_is_ignored_from_a_peer_that_is_not_listed(db: str) -> None:
    with _serve(db, "--forwarded-allow-ips", "10.0.0.5,192.168.1.0/24") as (base, err):
        _fail_login(base, "203.0.113.7")
    assert "failed dashboard login for 'alice' from 127.0.0.1" in err[0]


@pytest.mark.parametrize("value", ["*", "proxy.example", "10.0.0.5,*"])
def test_anything_but_addresses_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="forwarded-allow-ips"):
        parse_forwarded_allow_ips(value)
    refused = subprocess.run([*CLI, "serve", "--port", "20709", "--forwarded-allow-ips", value],
                             env=ENV, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert "error: --forwarded-allow-ips:" in refused.stderr


def test_no_proxy_means_no_proxy_headers() -> None:
    # uvicorn's own default would believe 127.0.0.1 (or $FORWARDED_ALLOW_IPS).
    assert proxy_settings(parse_forwarded_allow_ips(None)) == {"proxy_headers": False}
    assert proxy_settings(parse_forwarded_allow_ips(" , ")) == {"proxy_headers": False}
    assert proxy_settings(parse_forwarded_allow_ips("10.0.0.5, ::1")) == {
        "proxy_headers": True, "forwarded_allow_ips": ["10.0.0.5", "::1"]}
