"""The scan lock (Redis), the limiter's key naming, and the schedule/trigger commands."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from openai_casb.cli.app import app
from openai_casb.distributed.locks import (
    ScanAlreadyRunningError,
    acquire_scan_lock,
    heartbeat,
    release_scan_lock,
    renew_scan_lock,
    scan_lock_held,
)
from openai_casb.store import Store

KEY = "sk-admin-" + "x" * 40


@pytest.fixture
def redis(redis_url: str):  # type: ignore[no-untyped-def]
    from redis import Redis

    with Redis.from_url(redis_url) as client:
        yield client


@pytest.mark.redis
def test_one_scan_per_integration_and_a_dead_holder_expires(redis) -> None:  # type: ignore[no-untyped-def]
    token = acquire_scan_lock(redis, 901, ttl_seconds=1.0)
    with pytest.raises(ScanAlreadyRunningError):
        acquire_scan_lock(redis, 901, ttl_seconds=1.0)
    other = acquire_scan_lock(redis, 902, ttl_seconds=1.0)  # another integration is independent
    release_scan_lock(redis, 902, other)
    # Nobody renews it (its worker died): it expires and the integration can be scanned again.
    time.sleep(1.3)
    assert not scan_lock_held(redis, 901)
    assert not renew_scan_lock(redis, 901, token, 1.0)
    acquire_scan_lock(redis, 901, ttl_seconds=1.0)
    release_scan_lock(redis, 901, token)  # a stale token releases nothing
    assert scan_lock_held(redis, 901)


@pytest.mark.redis
def test_heartbeat_keeps_a_running_scan_locked(redis) -> None:  # type: ignore[no-untyped-def]
    token = acquire_scan_lock(redis, 903, ttl_seconds=0.9)
    with heartbeat(redis, 903, token, 0.9):
        time.sleep(2.0)  # more than twice the TTL
        assert scan_lock_held(redis, 903)
    release_scan_lock(redis, 903, token)
    assert not scan_lock_held(redis, 903)


def test_limiter_keys_name_a_hash_of_the_api_key_never_the_key() -> None:
    pytest.importorskip("redis")
    from openai_casb.distributed.ratelimit import RedisRollingWindowLimiter, key_fingerprint

    limiter = RedisRollingWindowLimiter("redis://127.0.0.1:1/0", {"admin": key_fingerprint(SecretStr(KEY))}, 60)
    name = limiter.redis_key("admin:/organization/users")
    assert name.endswith(":/organization/users")
    assert KEY not in name
    assert KEY[-8:] not in name
    with pytest.raises(KeyError):
        limiter.redis_key("compliance:/x")


def test_schedule_command_sets_and_lists_intervals(tmp_path: Path) -> None:
    db = str(tmp_path / "casb.db")
    with Store.open(db) as store:
        integration = store.ensure_integration("org-1", None, "Acme")
    runner = CliRunner()
    listed = runner.invoke(app, ["schedule", "--db", db])
    assert listed.exit_code == 0
    assert "not scheduled" in listed.output
    changed = runner.invoke(app, ["schedule", "--db", db, "--integration", str(integration.id), "--every", "6"])
    assert changed.exit_code == 0, changed.output
    assert "Acme" in changed.output
    assert " 6 " in changed.output
    for bad, message in ((["--every", "0"], "--every must be"), (["--every", "x"], "Invalid value"),
                         ([], "give --every")):
        result = runner.invoke(app, ["schedule", "--db", db, "--integration", str(integration.id), *bad])
        assert result.exit_code == 2, result.output
        assert message in result.output
    unknown = runner.invoke(app, ["schedule", "--db", db, "--integration", "99", "--every", "1"])
    assert unknown.exit_code == 2
    assert "no integration with id 99" in unknown.output


def test_trigger_reports_unreachable_redis_and_unknown_integrations(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("celery")
    db = str(tmp_path / "casb.db")
    with Store.open(db) as store:
        integration = store.ensure_integration("org-1", None, "Acme")
    monkeypatch.setenv("OPENAI_CASB_BROKER_URL", "redis://127.0.0.1:1/0")
    runner = CliRunner()
    down = runner.invoke(app, ["trigger", "--db", db, "--integration", str(integration.id)])
    assert down.exit_code == 2, down.output
    assert "Redis unreachable" in down.output
    unknown = runner.invoke(app, ["trigger", "--db", db, "--integration", "42"])
    assert unknown.exit_code == 2
    assert "no integration with id 42" in unknown.output


def test_trigger_with_the_broker_down_prints_one_error_line(tmp_path: Path) -> None:
    """docs/distributed.md: `openai-casb trigger` reports an unreachable broker as one `error:` line.
    Run as a process: the client's warning reached the terminal through logging's last-resort handler."""
    pytest.importorskip("celery")
    import os
    import subprocess
    import sys

    db = str(tmp_path / "casb.db")
    with Store.open(db) as store:
        integration = store.ensure_integration("org-1", None, "Acme")
    env = {**os.environ, "OPENAI_CASB_BROKER_URL": "redis://127.0.0.1:1/0"}
    env.pop("OPENAI_CASB_REDIS_URL", None)
    done = subprocess.run([sys.executable, "-m", "openai_casb.cli", "trigger", "--db", db,
                           "--integration", str(integration.id)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    assert "could not be queued" in lines[0]


class _RefusingBroker:
    """A dispatch whose broker refuses every task (kombu's error for an unreachable broker)."""

    def crawl_part(self, scan_id: int, group: str) -> None:
        from kombu.exceptions import OperationalError

        raise OperationalError("connection refused")

    def dlp_batch(self, scan_id: int, batch: str) -> None:
        raise AssertionError("not reached")

    def finalize(self, scan_id: int) -> None:
        raise AssertionError("not reached")


@pytest.mark.redis
def test_a_trigger_the_broker_refuses_fails_its_scan_and_frees_the_integration(  # type: ignore[no-untyped-def]
        redis, redis_url: str, tmp_path: Path) -> None:
    from kombu.exceptions import OperationalError

    from openai_casb.distributed import jobs
    from openai_casb.distributed.settings import load_distributed_settings
    from openai_casb.distributed.work import Runtime, trigger_scan
    from openai_casb.policy import Policy

    config = load_distributed_settings({"OPENAI_CASB_BROKER_URL": redis_url, "OPENAI_CASB_REDIS_URL": redis_url})
    with Store.open(str(tmp_path / "refused.db")) as store:
        integration = store.ensure_integration("org-refused", None, "Refused")
        rt = Runtime(store=store, redis=redis, config=config, policy=Policy(), dispatch=_RefusingBroker())
        with pytest.raises(OperationalError):
            trigger_scan(rt, integration.id)
        scan = store.list_scans(integration.id)[0]
        assert scan.status == "failed"
        assert "could not be queued" in scan.errors[-1]
        job = jobs.get_job(store.engine, scan.id)
        assert job is not None
        assert job.stage == jobs.DONE
        assert not scan_lock_held(redis, integration.id)  # a new trigger is not refused as "running"


@pytest.mark.parametrize("policy", [
    "dlp: {custom_profiles: [{name: X, entries: [{kind: edm, name: e, csv_path: /nonexistent.csv}]}]}\n",
    "mutelist:\n  - asset_id: x\n    reason: ok\n    expires: 2026-02-30\n",
])
def test_a_worker_refuses_to_start_with_a_policy_its_tasks_cannot_use(
    policy: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(policy)
    monkeypatch.setenv("OPENAI_CASB_POLICY", str(path))
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ")
    assert "Traceback" not in result.output
