"""The in-process launcher refuses (409) while a scan of the integration runs in another process, e.g.
`openai-casb scan`, which the server knows only by the scan's row and its fresh heartbeat in the store."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from conftest import SECRET, WebEnv
from openai_casb.policy import Policy
from openai_casb.scanning import run
from openai_casb.store import ScanStatus
from openai_casb.web.app import create_app
from openai_casb.web.context import WebContext
from openai_casb.web.scan_launcher import ScanRunningError, scanning_launcher

ADMIN_KEY = "sk-admin-" + "b" * 40


def wait_until(condition: Callable[[], bool], what: str, bound: float = 60) -> None:
    deadline = time.monotonic() + bound  # a bound on the wait, not a timing assertion
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


async def no_crawl(*_args: object, **_kwargs: object) -> object:
    raise AssertionError("a refused scan must not read the APIs")


def test_a_trigger_while_a_cli_scan_runs_is_a_409(web: WebEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "crawl", no_crawl)  # the real run_scan, refused before it reads anything
    ctx = WebContext(store=web.store, secret=SECRET, launcher=scanning_launcher(web.store, Policy(), start_timeout=30),
                     secure_cookies=False)
    ctx.accounts.save_credentials(1, ctx.cipher, {"admin_key": ADMIN_KEY})
    api = TestClient(create_app(ctx), base_url="http://127.0.0.1",
                     headers={"Authorization": f"Bearer {web.admin_token}"})
    elsewhere = web.store.begin_scan(1)  # what `openai-casb scan` records in its own process
    before = {s.id for s in web.store.list_scans(limit=1000)}

    refused = api.post("/api/v1/integrations/1/scans")
    assert refused.status_code == 409
    assert refused.json()["error"]["message"].startswith("a scan of integration 1 is already running")
    assert {s.id for s in web.store.list_scans(limit=1000)} == before  # nothing recorded
    assert web.store.list_scans(1, limit=1)[0].status == ScanStatus.RUNNING

    # The launcher itself, called directly, raises the web's ScanRunningError (not a generic failure).
    integration = web.store.get_integration(1)
    with pytest.raises(ScanRunningError):
        ctx.launcher(integration, {"admin_key": ADMIN_KEY}, ctx.progress)

    # Once the other process's heartbeat is stale (it died), the server's scan takes over.
    web.store.scan_stale_after = timedelta(0)
    started = api.post("/api/v1/integrations/1/scans")
    assert started.status_code == 202
    statuses = {s.id: s.status for s in web.store.list_scans(1, limit=1000)}
    assert statuses[elsewhere] == ScanStatus.INTERRUPTED
    # Its thread ends on the fake source's error (recorded on the scan) before the fake is removed.
    wait_until(lambda: web.store.list_scans(1, limit=1)[0].status == ScanStatus.FAILED, "the scan to end")
