"""Fixtures for the web tests: a seeded SQLite store, the app, tokens, users and a live server."""

from __future__ import annotations

import shutil
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from openai_casb.store import Integration, Store, StoreError
from openai_casb.web.accounts import Role
from openai_casb.web.app import create_app
from openai_casb.web.context import WebContext
from openai_casb.web.scan_launcher import ProgressBoard

sys.path.insert(0, str(Path(__file__).parent))
from seed import Seeded, detections, seed

SECRET = b"test-secret-key-with-at-least-32-characters!"
ADMIN_PASSWORD = "admin-password-123"
VIEWER_PASSWORD = "viewer-password-123"


class FakeLauncher:
    """Starts a scan in the store and finishes it when `release` is set, so tests can watch it run."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.release = threading.Event()
        self.calls: list[tuple[int, dict[str, Any]]] = []

    def __call__(self, integration: Integration, credentials: dict[str, Any], progress: ProgressBoard) -> int:
        self.calls.append((integration.id, credentials))
        scan_id = self.store.begin_scan(integration.id)
        progress.update(scan_id, "reading compliance.gpts", 3, 13)

        def finish() -> None:
            self.release.wait(30)
            ids = [t.id for t in self.store.finding_types()]
            try:
                self.store.finish_scan(scan_id, detections=detections(1), evaluated_type_ids=ids,
                                       complete_type_ids=ids)
            except StoreError:  # a later scan of the same integration interrupted this one, as the store does
                return
            progress.update(scan_id, "finished", 13, 13)

        threading.Thread(target=finish, daemon=True).start()
        return scan_id


@dataclass
class WebEnv:
    store: Store
    ctx: WebContext
    app: FastAPI
    seeded: Seeded
    launcher: FakeLauncher
    admin_token: str
    viewer_token: str

    def client(self, token: str | None = None) -> TestClient:
        client = TestClient(self.app, base_url="http://127.0.0.1")
        if token:
            client.headers["Authorization"] = f"Bearer {token}"
        return client


@dataclass(frozen=True)
class Template:
    """A seeded database with users and tokens, built once and copied for each test (scrypt and seeding are slow)."""

    path: Path
    seeded: Seeded
    admin_token: str
    viewer_token: str


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    path = tmp_path_factory.mktemp("web-template") / "web.db"
    with Store.open(f"sqlite:///{path}") as store:
        seeded = seed(store)
        ctx = WebContext(store=store, secret=SECRET, launcher=FakeLauncher(store), secure_cookies=False)
        ctx.accounts.create_user("alice", Role.ADMIN, ADMIN_PASSWORD)
        ctx.accounts.create_user("victor", Role.VIEWER, VIEWER_PASSWORD)
        _info, admin_token = ctx.accounts.create_token(Role.ADMIN, "tests admin")
        _info, viewer_token = ctx.accounts.create_token(Role.VIEWER, "tests viewer")
    return Template(path, seeded, admin_token, viewer_token)


@pytest.fixture
def web(tmp_path: Path, template: Template) -> Iterator[WebEnv]:
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{template.path}{suffix}")
        if source.exists():
            shutil.copyfile(source, tmp_path / f"web.db{suffix}")
    store = Store.open(f"sqlite:///{tmp_path / 'web.db'}")
    launcher = FakeLauncher(store)
    ctx = WebContext(store=store, secret=SECRET, launcher=launcher, secure_cookies=False)
    yield WebEnv(store, ctx, create_app(ctx), template.seeded, launcher, template.admin_token, template.viewer_token)
    launcher.release.set()
    store.close()


def login(client: TestClient, username: str, password: str) -> None:
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    response = client.post("/login", data={"csrf": csrf, "username": username, "password": password},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def csrf_of(html: str) -> str:
    return html.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(web: WebEnv) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(web.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(500):  # wait for the socket, not for a duration
        if server.started:
            break
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
