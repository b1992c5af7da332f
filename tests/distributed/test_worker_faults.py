"""Faults around the workers that must stay local: a cold shutdown (Ctrl-C twice) is not a task failure,
one bad integration config file fails only its own integration, and `trigger` with the broker down is
one error line. Needs Redis and PostgreSQL (conftest.py) for the worker tests."""

from __future__ import annotations

import logging
import signal
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from openai_casb.cli.app import app
from openai_casb.cli.demo_cmd import settings_for_emulator
from openai_casb.distributed import jobs
from openai_casb.distributed.settings import DistributedConfigError, load_distributed_settings, settings_for
from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator
from openai_casb.policy import Policy
from openai_casb.store import Store
from tests.distributed.conftest import Workers, wait_for, worker_env
from tests.distributed.test_distributed_scan import (
    NOW,
    active,
    done,
    integration_of,
    reference,
    running_tasks,
    trigger,
    write_config,
)

ADMIN_KEY = "sk-admin-" + "k" * 40
TINY = "users=6,invites=1,projects=1,keys_per_project=2,admin_keys=1,gpts=2,chatgpt_projects=1,conversations=4,files=3"


class Recorded:
    """A dispatch that keeps the tasks it is given (the scheduler's tick sends crawls through it)."""

    def __init__(self) -> None:
        self.crawls: list[tuple[int, str]] = []

    def crawl_part(self, scan_id: int, group: str) -> None:
        self.crawls.append((scan_id, group))

    def dlp_batch(self, scan_id: int, batch: str) -> None:
        raise AssertionError("not reached")

    def finalize(self, scan_id: int) -> None:
        raise AssertionError("not reached")


@pytest.fixture
def tasks_module(redis_url: str) -> Any:
    from openai_casb.distributed import tasks

    return tasks


def _runtime(store: Store, redis_url: str, env: dict[str, str] | None = None) -> Any:
    from redis import Redis

    from openai_casb.distributed.work import Runtime

    config = load_distributed_settings({"OPENAI_CASB_BROKER_URL": redis_url, **(env or {})})
    return Runtime(store=store, redis=Redis.from_url(redis_url), config=config, policy=Policy(), dispatch=Recorded())


# --- cold shutdown -------------------------------------------------------------------------------------


def _scan_with_job(store: Store) -> int:
    integration = store.ensure_integration("org-cold", None, "Cold")
    scan_id = store.begin_scan(integration.id, NOW)
    jobs.create_job(store.engine, scan_id, integration.id, "token", ("admin",), full=False, now=NOW)
    return scan_id


def _interrupted(_rt: Any) -> None:
    # What Celery's cold shutdown raises inside a task of the solo pool (TaskPool.terminate_job).
    raise NotImplementedError("<class 'celery.concurrency.solo.TaskPool'> does not implement kill_job")


@pytest.mark.redis
def test_a_cold_shutdown_requeues_the_task_without_using_a_retry(
    tasks_module: Any, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from celery.exceptions import Reject  # type: ignore[import-untyped]
    from celery.worker import state  # type: ignore[import-untyped]

    with Store.open(str(tmp_path / "cold.db")) as store:
        rt = _runtime(store, redis_url)
        monkeypatch.setattr(tasks_module, "runtime", lambda: rt)
        scan_id = _scan_with_job(store)
        last_try = SimpleNamespace(name="openai_casb.crawl_part", request=SimpleNamespace(retries=2),
                                   retry=lambda **_: pytest.fail("a shutdown used up a retry"))
        monkeypatch.setattr(state, "should_terminate", 1)  # what the cold shutdown's signal handler sets
        with pytest.raises(Reject) as rejected:
            tasks_module._guarded(last_try, scan_id, _interrupted)
        assert rejected.value.requeue
        assert store.list_scans()[0].status == "running"
        # The same error outside a shutdown is the task's own: its last try fails the scan.
        monkeypatch.setattr(state, "should_terminate", None)
        tasks_module._guarded(last_try, scan_id, _interrupted)
        (scan,) = store.list_scans()
        assert scan.status == "failed"
        assert "NotImplementedError" in scan.errors[-1]


@pytest.mark.postgres
@pytest.mark.slow
def test_ctrl_c_twice_mid_crawl_requeues_and_the_scan_completes(
    tmp_path: Path, redis_url: str, postgres_url: str, workers: Workers
) -> None:
    org = generate_org(TINY, seed=11, now=NOW)
    expected = reference(org, tmp_path)
    # Slow answers, so a crawl is still reading when both signals have arrived.
    with running_emulator(org, EmulatorConfig(rate_limit_scale=100, latency_ms=1000)) as emulator:
        settings = settings_for_emulator(emulator)
        workers.env = worker_env(redis_url, postgres_url, [write_config(settings, tmp_path / "cold.toml")])
        store = Store.open(postgres_url)
        workers.start(1)
        scan_id = trigger(store, workers, integration_of(store, settings))
        served = emulator.stats()["total"]
        # Mid-task for sure: the worker holds a crawl and the emulator has answered it since.
        wait_for(lambda: bool(running_tasks(workers, 0)) and emulator.stats()["total"] > served, 60,
                 "a crawl under way", workers)
        log = tmp_path / "worker0.log"
        workers.processes[0].send_signal(signal.SIGINT)  # warm shutdown: the task would finish...
        wait_for(lambda: "Ctrl+C again" in log.read_text(errors="replace"), 20, "the warm shutdown", workers)
        workers.processes[0].send_signal(signal.SIGINT)  # ...cold shutdown: it is cancelled
        workers.processes[0].wait(30)
        text = log.read_text(errors="replace")
        assert "interrupted by the worker's shutdown" in text, text[-3000:]
        assert "retrying" not in text
        assert not done(store, scan_id)
        workers.start(1)  # the restarted worker runs the re-queued task
        wait_for(lambda: done(store, scan_id), 120, "the scan after the cold shutdown", workers)
    (record,) = [r for r in store.list_scans() if r.id == scan_id]
    assert record.status == "complete", record.errors
    assert active(store, record.integration_id) == expected


# --- integration config files --------------------------------------------------------------------------


def _config(path: Path, org_id: str, *extra: str) -> Path:
    path.write_text(f'admin_key = "{ADMIN_KEY}"\norg_id = "{org_id}"\n' + "".join(f"{line}\n" for line in extra))
    path.chmod(0o600)
    return path


def test_a_bad_config_file_fails_only_its_own_integration(tmp_path: Path) -> None:
    good = _config(tmp_path / "a.toml", "org-good")
    bad = _config(tmp_path / "l.toml", "org-bad", 'colour = "x"')
    config = load_distributed_settings({"OPENAI_CASB_INTEGRATIONS": f"{good}:{bad}"})
    with Store.open(str(tmp_path / "configs.db")) as store:
        mine = store.ensure_integration("org-good", None, "Good")
        theirs = store.ensure_integration("org-bad", None, "Bad")
        assert settings_for(store, mine, config).org_id == "org-good"
        with pytest.raises(DistributedConfigError, match=r"l\.toml: unknown setting\(s\): colour"):
            settings_for(store, theirs, config)


def test_a_file_that_names_no_integration_is_only_reported(tmp_path: Path) -> None:
    good = _config(tmp_path / "a.toml", "org-good")
    broken = tmp_path / "broken.toml"
    broken.write_text(f'admin_key = "{ADMIN_KEY}"\norg_id = \n')
    missing = tmp_path / "missing.toml"
    config = load_distributed_settings({"OPENAI_CASB_INTEGRATIONS": f"{good}:{broken}:{missing}"})
    with Store.open(str(tmp_path / "configs.db")) as store:
        assert settings_for(store, store.ensure_integration("org-good", None, "Good"), config).org_id == "org-good"
        with pytest.raises(DistributedConfigError, match="no credentials") as unknown:
            settings_for(store, store.ensure_integration("org-other", None, "Other"), config)
        assert "broken.toml" in str(unknown.value)
        assert "missing.toml" in str(unknown.value)
        assert ADMIN_KEY not in str(unknown.value)


@pytest.mark.redis
def test_the_tick_schedules_the_good_integrations_and_warns_once_per_bad_file(
    tasks_module: Any, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture
) -> None:
    good = _config(tmp_path / "a.toml", "org-tick")
    bad = _config(tmp_path / "l.toml", "org-tick-bad", 'colour = "x"')
    broken = tmp_path / "broken.toml"
    broken.write_text(f'admin_key = "{ADMIN_KEY}"\n[[[\n')
    with Store.open(str(tmp_path / "tick.db")) as store:
        rt = _runtime(store, redis_url, {"OPENAI_CASB_INTEGRATIONS": f"{good}:{bad}:{broken}"})
        monkeypatch.setattr(tasks_module, "runtime", lambda: rt)
        with caplog.at_level(logging.WARNING):
            tasks_module.schedule_tick(None)
        (integration,) = store.integrations()
        assert integration.organization_id == "org-tick"
        (scan,) = store.list_scans(integration.id)
        assert rt.dispatch.crawls == [(scan.id, "admin")]
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 2
        assert any("l.toml: unknown setting(s): colour" in w for w in warnings)
        assert any("broken.toml is not valid TOML" in w for w in warnings)
        assert ADMIN_KEY not in caplog.text
        from openai_casb.distributed.locks import release_scan_lock

        job = jobs.get_job(store.engine, scan.id)
        assert job is not None
        release_scan_lock(rt.redis, integration.id, job.lock_token)
        rt.redis.close()


# --- trigger with the broker down ----------------------------------------------------------------------


def _closed_port() -> int:
    """A port of this suite's range (19400-19499) that nothing listens on."""
    for port in range(19480, 19500):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    pytest.skip("no closed port in 19480-19499")


@pytest.mark.redis
def test_trigger_with_the_broker_down_is_one_error_line_and_fails_the_scan(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redis import Redis

    from openai_casb.distributed.locks import scan_lock_held

    with Redis.from_url(redis_url) as redis:
        redis.flushdb()  # no lock left by an earlier test on the same integration id
    db = str(tmp_path / "down.db")
    with Store.open(db) as store:
        integration = store.ensure_integration("org-down", None, "Down")
    monkeypatch.setenv("OPENAI_CASB_BROKER_URL", f"redis://:hunter2@127.0.0.1:{_closed_port()}/8")
    monkeypatch.setenv("OPENAI_CASB_REDIS_URL", redis_url)  # the locks' Redis answers, the broker does not
    result = CliRunner().invoke(app, ["trigger", "--db", db, "--integration", str(integration.id)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    assert "could not be queued" in lines[0]
    assert "hunter2" not in result.output
    with Store.open(db) as store:
        (scan,) = store.list_scans(integration.id)
        assert scan.status == "failed"
        assert "could not be queued" in scan.errors[-1]
    with Redis.from_url(redis_url) as redis:
        assert not scan_lock_held(redis, integration.id)  # the next trigger is not refused as "running"
