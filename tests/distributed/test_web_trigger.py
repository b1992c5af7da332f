"""The web app in distributed mode: a scan triggered through the REST API runs on real Celery workers,
one at a time per integration, with the progress the workers record in the store.

The progress reading is also checked on its own (SQLite, no services): it reads the job's stage and the
names of the parts stored so far.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator
from openai_casb.policy import Policy
from openai_casb.store import Store
from tests.distributed.conftest import Workers, wait_for, worker_env

pytest.importorskip("celery", reason="the distributed extra is not installed")

from openai_casb.distributed import jobs
from openai_casb.distributed.client import CeleryLauncher, job_progress
from openai_casb.distributed.locks import scan_lock_held
from openai_casb.web.context import WebContext
from openai_casb.web.scan_launcher import Progress, configured_launcher
from tests.distributed.test_distributed_scan import active, reference
from tests.emulated_api import api_with_emulated_integration

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SECRET = "distributed-web-secret-of-at-least-32-characters"
SMALL = ("users=30,invites=6,projects=2,keys_per_project=2,admin_keys=2,gpts=6,chatgpt_projects=3,"
         "conversations=24,files=20")


def test_progress_is_read_from_the_job_and_its_part_names(tmp_path: Path) -> None:
    with Store.open(str(tmp_path / "casb.db")) as store:
        integration = store.ensure_integration("org-1", "ws-1", "Acme")
        scan_id = store.begin_scan(integration.id)
        assert job_progress(store, scan_id) is None  # not a distributed scan
        jobs.create_job(store.engine, scan_id, integration.id, "token", ("admin", "compliance"), full=False, now=NOW)
        assert job_progress(store, scan_id) == Progress("reading sources", 0, 2, "0 of 2 source groups read")
        # Payloads are never parsed: only the parts' names count.
        jobs.put_parts(store.engine, scan_id, {"crawl:compliance": "x", "files:000000": "x", "files:000001": "x"})
        assert job_progress(store, scan_id) == Progress("reading sources", 1, 2, "1 of 2 source groups read")
        jobs.put_parts(store.engine, scan_id, {"crawl:admin": "x", "files:000002": "x"})
        assert job_progress(store, scan_id) == Progress("scanning files", 0, 3, "0 of 3 file batches scanned")
        jobs.put_parts(store.engine, scan_id, {"dlp:000001": "x"})
        assert job_progress(store, scan_id) == Progress("scanning files", 1, 3, "1 of 3 file batches scanned")
        jobs.set_stage(store.engine, scan_id, jobs.FINALIZING)
        finalizing = job_progress(store, scan_id)
        assert finalizing is not None
        assert finalizing.stage == "finalizing"
        jobs.set_stage(store.engine, scan_id, jobs.DONE)
        assert job_progress(store, scan_id) is None
        ctx = WebContext(store=store, secret=SECRET.encode(), launcher=CeleryLauncher(store), secure_cookies=False)
        running = store.list_scans()[0]
        assert running.status == "running"
        assert ctx.scan_progress(running) is None  # the job is done: the board in memory is never consulted


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
def test_a_scan_triggered_through_the_api_runs_on_the_workers(
    tmp_path: Path, redis_url: str, postgres_url: str, workers: Workers
) -> None:
    org = generate_org(SMALL, seed=21, now=NOW)
    expected = reference(org, tmp_path)
    # The workers have no config files: they use the credentials stored through the web, with the same secret.
    workers.env = worker_env(redis_url, postgres_url, [], OPENAI_CASB_SECRET_KEY=SECRET)
    with Store.open(postgres_url) as store, running_emulator(org, EmulatorConfig(latency_ms=20)) as emulator:
        launcher, description = configured_launcher(store, Policy(), env=workers.env)
        assert isinstance(launcher, CeleryLauncher), description
        ctx = WebContext(store=store, secret=SECRET.encode(), launcher=launcher, secure_cookies=False)
        api, integration_id = api_with_emulated_integration(ctx, emulator)

        # Queued before any worker runs: it is running, reading its two source groups, and holds the lock.
        started = api.post(f"/api/v1/integrations/{integration_id}/scans")
        assert started.status_code == 202, started.text
        scan_id = started.json()["scan_id"]
        queued = api.get(f"/api/v1/scans/{scan_id}").json()
        assert queued["status"] == "running"
        assert queued["progress"] == {"stage": "reading sources", "done": 0, "total": 2,
                                      "message": "0 of 2 source groups read"}
        refused = api.post(f"/api/v1/integrations/{integration_id}/scans")
        assert refused.status_code == 409
        assert "already running" in refused.json()["error"]["message"]
        listed = api.get("/api/v1/scans", params={"integration_id": integration_id}).json()["items"]
        assert [s["id"] for s in listed] == [scan_id]  # nothing else started (the database is the session's)

        workers.start(2)
        seen: list[str] = []

        def finished() -> bool:
            scan = api.get(f"/api/v1/scans/{scan_id}").json()
            if scan["progress"]:
                seen.append(scan["progress"]["stage"])
            return bool(scan["status"] != "running")

        wait_for(finished, 150, "the scan on the workers", workers)
        scan = api.get(f"/api/v1/scans/{scan_id}").json()
        assert scan["status"] == "complete", (scan["errors"], workers.logs())
        assert scan["progress"] is None  # concluded: the store's row is the whole story
        assert set(seen) <= {"reading sources", "scanning files", "finalizing"}
        assert active(store, integration_id) == expected
        assert scan["new"] == len(expected)

        # The lock was released by the finalizer: the integration can be scanned again, from the API.
        from redis import Redis

        with Redis.from_url(redis_url) as redis:
            wait_for(lambda: not scan_lock_held(redis, integration_id), 30, "the lock", workers)
        again = api.post(f"/api/v1/integrations/{integration_id}/scans")
        assert again.status_code == 202, again.text
        wait_for(lambda: api.get(f"/api/v1/scans/{again.json()['scan_id']}").json()["status"] != "running", 150,
                 "the second scan", workers)
        second = api.get(f"/api/v1/scans/{again.json()['scan_id']}").json()
        # Incremental (only conversations changed since the first): "partial" by the store's rule, not a failure.
        assert second["status"] in {"complete", "partial"}, (second["errors"], workers.logs())
        assert second["new"] == 0
        assert active(store, integration_id) == expected

