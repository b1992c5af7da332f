"""Which launcher `serve` uses (in-process or Celery), one scan per integration at a time, and the
status and progress the API shows for an in-process scan (run for real against the emulator)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.emulated_api import api_with_emulated_integration

from conftest import ADMIN_PASSWORD, SECRET, WebEnv, csrf_of, login
from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator
from openai_casb.inventory.model import Source
from openai_casb.policy import Policy
from openai_casb.scanning import ScanRequest
from openai_casb.store import Store
from openai_casb.web import scan_launcher
from openai_casb.web.app import create_app
from openai_casb.web.context import WebContext
from openai_casb.web.scan_launcher import (
    QueuedLauncher,
    ScanRunningError,
    ScanUnavailableError,
    configured_launcher,
    scanning_launcher,
)

ADMIN_KEY = "sk-admin-" + "a" * 40
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TINY = "users=6,invites=2,projects=1,keys_per_project=1,admin_keys=1,gpts=2,chatgpt_projects=1,conversations=3,files=2"


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# --- the switch -----------------------------------------------------------------------------------


def test_without_a_broker_scans_run_in_this_process(tmp_path: Path) -> None:
    with Store.open(str(tmp_path / "casb.db")) as store:
        launcher, description = configured_launcher(store, Policy(), env={"OPENAI_CASB_DB": "ignored"})
        assert not isinstance(launcher, QueuedLauncher)
        assert description == "scans run in this process"
        blank, _ = configured_launcher(store, Policy(), env={"OPENAI_CASB_BROKER_URL": "  "})
        assert not isinstance(blank, QueuedLauncher)


def test_with_a_broker_scans_are_queued_on_the_workers(tmp_path: Path) -> None:
    pytest.importorskip("celery", reason="the distributed extra is not installed")
    from openai_casb.distributed.client import CeleryLauncher

    env = {"OPENAI_CASB_BROKER_URL": "redis://127.0.0.1:6390/3", "OPENAI_CASB_LOCK_TTL_SECONDS": "45"}
    with Store.open(str(tmp_path / "casb.db")) as store:
        launcher, description = configured_launcher(store, Policy(), env=env)
        assert isinstance(launcher, CeleryLauncher)
        assert isinstance(launcher, QueuedLauncher)
        assert "Celery workers" in description
        # The workers' own settings: same broker, Redis defaulting to it, same lock TTL.
        assert launcher.config.broker_url == "redis://127.0.0.1:6390/3"
        assert launcher.config.redis_url == "redis://127.0.0.1:6390/3"
        assert launcher.config.lock_ttl_seconds == 45.0
        ctx = WebContext(store=store, secret=SECRET, launcher=launcher, secure_cookies=False)
        assert ctx.queued


def test_a_broker_with_bad_settings_or_without_the_extra_is_refused(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from openai_casb.distributed import celery_app

    with Store.open(str(tmp_path / "casb.db")) as store:
        bad = {"OPENAI_CASB_BROKER_URL": "redis://127.0.0.1:6390/3", "OPENAI_CASB_LOCK_TTL_SECONDS": "soon"}
        with pytest.raises(ScanUnavailableError, match="OPENAI_CASB_LOCK_TTL_SECONDS must be a number"):
            configured_launcher(store, Policy(), env=bad)

        def missing() -> None:
            raise celery_app.DistributedUnavailableError("celery not installed: pip install 'openai-casb[distributed]'")

        monkeypatch.setattr(celery_app, "require_celery", missing)
        with pytest.raises(ScanUnavailableError, match=r"OPENAI_CASB_BROKER_URL is set, but celery not installed"):
            configured_launcher(store, Policy(), env={"OPENAI_CASB_BROKER_URL": "redis://127.0.0.1:6390/3"})


def test_an_unreachable_broker_is_a_503_that_names_no_url(web: WebEnv) -> None:
    pytest.importorskip("celery", reason="the distributed extra is not installed")
    from openai_casb.distributed.client import CeleryLauncher
    from openai_casb.distributed.settings import load_distributed_settings

    url = "redis://:hunter2-password@127.0.0.1:1/0"  # nothing listens on port 1
    config = load_distributed_settings({"OPENAI_CASB_BROKER_URL": url})
    ctx = WebContext(store=web.store, secret=SECRET, launcher=CeleryLauncher(web.store, config), secure_cookies=False)
    client = TestClient(create_app(ctx), base_url="http://127.0.0.1",
                        headers={"Authorization": f"Bearer {web.admin_token}"})
    response = client.post("/api/v1/integrations/1/scans")  # no stored credentials: the workers may have them
    assert response.status_code == 503
    assert "could not be queued" in response.json()["error"]["message"]
    assert "hunter2" not in response.text
    assert "127.0.0.1:1" not in response.text


# --- in-process: one scan per integration ---------------------------------------------------------


class GatedScan:
    """Stands in for `run_scan`: starts a scan in the store, reports progress, and ends when the gate opens."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started: list[int] = []

    async def __call__(self, store: Store, request: ScanRequest, *, progress: Any, on_begin: Any, **_: Any) -> None:
        integration = store.ensure_integration(request.settings.org_id, request.settings.workspace_id, "x")
        scan_id = store.begin_scan(integration.id)
        self.started.append(scan_id)
        on_begin(scan_id)
        progress.update(Source.ADMIN_USERS, 1, 10)
        await asyncio.to_thread(self.gate.wait, 30)
        ids = [t.id for t in store.finding_types()]
        store.finish_scan(scan_id, detections=[], evaluated_type_ids=ids, complete_type_ids=ids)


def test_a_second_trigger_while_a_scan_runs_is_refused(web: WebEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = GatedScan()
    monkeypatch.setattr(scan_launcher, "run_scan", fake)
    ctx = WebContext(store=web.store, secret=SECRET, launcher=scanning_launcher(web.store, Policy()),
                     secure_cookies=False)
    app = create_app(ctx)
    api = TestClient(app, base_url="http://127.0.0.1", headers={"Authorization": f"Bearer {web.admin_token}"})
    ctx.accounts.save_credentials(1, ctx.cipher, {"admin_key": ADMIN_KEY})
    other = web.store.ensure_integration("org-other", None, "Other")
    ctx.accounts.save_credentials(other.id, ctx.cipher, {"admin_key": ADMIN_KEY})

    first = api.post("/api/v1/integrations/1/scans")
    assert first.status_code == 202
    scan_id = first.json()["scan_id"]
    again = api.post("/api/v1/integrations/1/scans")
    assert again.status_code == 409
    assert again.json()["error"]["message"].startswith("a scan of integration 1 is already running")
    pages = TestClient(app, base_url="http://127.0.0.1")
    login(pages, "alice", ADMIN_PASSWORD)
    form = pages.post("/integrations/1/scan", data={"csrf": csrf_of(pages.get("/scans").text)},
                      follow_redirects=False)
    assert form.status_code == 409
    assert "already running" in form.text
    assert api.post(f"/api/v1/integrations/{other.id}/scans").status_code == 202  # other integrations are free
    running = api.get(f"/api/v1/scans/{scan_id}").json()
    assert running["status"] == "running"
    assert running["progress"]["stage"] == "reading admin.users"
    assert len(fake.started) == 2  # the refused triggers started nothing

    fake.gate.set()
    wait_until(lambda: api.get(f"/api/v1/scans/{scan_id}").json()["status"] != "running", "the scan to end")
    done = api.get(f"/api/v1/scans/{scan_id}").json()
    assert done["status"] == "complete"
    wait_until(lambda: api.post("/api/v1/integrations/1/scans").status_code == 202,
               "the integration to be free again")  # its thread ends just after finish_scan
    assert len(fake.started) == 3


def test_a_failing_scan_frees_the_integration(web: WebEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    async def broken(store: Store, request: ScanRequest, *, on_begin: Any, **_: Any) -> None:
        calls.append(1)
        raise RuntimeError("boom")

    monkeypatch.setattr(scan_launcher, "run_scan", broken)
    launcher = scanning_launcher(web.store, Policy(), start_timeout=5)
    integration = web.store.get_integration(1)
    for _ in range(2):  # the first failure does not leave the integration marked running
        with pytest.raises(ScanUnavailableError, match="did not start"):
            launcher(integration, {"admin_key": ADMIN_KEY}, web.ctx.progress)
    assert len(calls) == 2
    gated = GatedScan()
    monkeypatch.setattr(scan_launcher, "run_scan", gated)
    launcher(integration, {"admin_key": ADMIN_KEY}, web.ctx.progress)
    try:
        with pytest.raises(ScanRunningError):
            launcher(integration, {"admin_key": ADMIN_KEY}, web.ctx.progress)
    finally:
        gated.gate.set()
    assert len(gated.started) == 1


# --- in-process: a real scan through the API --------------------------------------------------------


def test_an_api_triggered_scan_runs_here_and_reports_its_status(tmp_path: Path) -> None:
    org = generate_org(TINY, seed=11, now=NOW)
    with Store.open(str(tmp_path / "casb.db")) as store, running_emulator(org, EmulatorConfig()) as emulator:
        launcher, _ = configured_launcher(store, Policy(), env={})
        ctx = WebContext(store=store, secret=SECRET, launcher=launcher, secure_cookies=False)
        api, integration_id = api_with_emulated_integration(ctx, emulator)
        started = api.post(f"/api/v1/integrations/{integration_id}/scans")
        assert started.status_code == 202
        scan_id = started.json()["scan_id"]
        wait_until(lambda: api.get(f"/api/v1/scans/{scan_id}").json()["status"] != "running", "the scan", 120)
        scan = api.get(f"/api/v1/scans/{scan_id}").json()
        assert scan["status"] == "complete", scan["errors"]
        assert scan["progress"]["stage"] == "finished"
        assert scan["new"] > 0
        assert scan["integration_id"] == integration_id
        assert api.get("/api/v1/instances", params={"integration_id": integration_id}).json()["total"] == scan["new"]
