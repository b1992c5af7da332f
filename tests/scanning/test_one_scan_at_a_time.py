"""`run_scan` and `openai-casb scan` keep one scan of an integration at a time: a scan renews its
heartbeat while it runs, a second scan is refused (CLI: one line, exit 2), and a scan another one
took for dead ends with one line, not a traceback."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console

from openai_casb.cli.demo_cmd import settings_for_emulator
from openai_casb.cli.scan_cmd import scan_and_report
from openai_casb.config import Settings
from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator
from openai_casb.policy import Policy
from openai_casb.scanning import ScanRequest, run, run_scan
from openai_casb.store import ScanRunningError, ScanStatus, Store
from openai_casb.store.schema import ScanRow

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SETTINGS = Settings(admin_key="sk-admin-test-0000000000000000", org_id="org-test")  # type: ignore[arg-type]


class TickingClock:
    """A second later at every call: each heartbeat is newer than the last, without wall-clock time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = NOW

    def __call__(self) -> datetime:
        with self._lock:
            self.now += timedelta(seconds=1)
            return self.now


class SourceDone(Exception):
    """Ends the fake slow source."""


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(str(tmp_path / "one.db")) as store:
        yield store


def heartbeat_of(store: Store, scan_id: int) -> datetime | None:
    with store._session() as session:
        row = session.get(ScanRow, scan_id)
        assert row is not None
        return row.heartbeat_at


def test_a_long_scan_renews_its_heartbeat(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.clock = TickingClock()
    monkeypatch.setattr(run, "HEARTBEAT_INTERVAL_SECONDS", 0.01)
    seen: list[datetime | None] = []

    async def slow_source(*_args: Any, **_kwargs: Any) -> Any:
        (scan_id,) = [s.id for s in store.list_scans()]
        first = heartbeat_of(store, scan_id)
        seen.append(first)
        for _ in range(3000):  # a bound, not a timing assertion: stop once two beats were recorded
            await asyncio.sleep(0.01)
            beat = heartbeat_of(store, scan_id)
            if beat is not None and first is not None and beat >= first + timedelta(seconds=2):
                seen.append(beat)
                raise SourceDone
        raise AssertionError("the scan's heartbeat was never renewed")

    monkeypatch.setattr(run, "crawl", slow_source)
    with pytest.raises(SourceDone):
        asyncio.run(run_scan(store, ScanRequest(settings=SETTINGS, policy=Policy()), now=NOW))
    assert len(seen) == 2
    (record,) = store.list_scans()
    assert record.status == ScanStatus.FAILED  # the crash is recorded, as before
    assert "SourceDone" in record.errors[0]


def test_a_second_run_scan_is_refused_before_reading_anything(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    integration = store.ensure_integration("org-test", None, "org-test")
    running = store.begin_scan(integration.id)

    async def no_crawl(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a refused scan must not read the APIs")

    monkeypatch.setattr(run, "crawl", no_crawl)
    with pytest.raises(ScanRunningError, match=f"scan {running}"):
        asyncio.run(run_scan(store, ScanRequest(settings=SETTINGS, policy=Policy()), now=NOW))
    assert [(s.id, s.status) for s in store.list_scans()] == [(running, ScanStatus.RUNNING)]


def test_a_scan_taken_for_dead_keeps_its_crash_and_its_interrupted_status(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crash_after_takeover(*_args: Any, **_kwargs: Any) -> Any:
        (scan_id,) = [s.id for s in sqlite_store.list_scans()]
        with Store.open(str(tmp_path / "one.db")) as other:
            other.scan_stale_after = timedelta(0)  # as if our heartbeat had stopped for too long
            other.begin_scan(sqlite_store.list_scans()[0].integration_id)
        raise RuntimeError(f"source broke in scan {scan_id}")

    monkeypatch.setattr(run, "crawl", crash_after_takeover)
    with pytest.raises(RuntimeError, match="source broke"):  # not the store's complaint about the status
        asyncio.run(run_scan(sqlite_store, ScanRequest(settings=SETTINGS, policy=Policy()), now=NOW))
    assert [s.status for s in sqlite_store.list_scans()] == [ScanStatus.RUNNING, ScanStatus.INTERRUPTED]


def test_cli_scan_taken_for_dead_ends_with_one_line(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_crawl = run.crawl

    async def crawl_then_taken_over(*args: Any, **kwargs: Any) -> Any:
        result = await real_crawl(*args, **kwargs)
        with Store.open(str(tmp_path / "one.db")) as other:
            other.scan_stale_after = timedelta(0)
            other.begin_scan(sqlite_store.list_scans()[0].integration_id)
        return result

    monkeypatch.setattr(run, "crawl", crawl_then_taken_over)
    org = generate_org("users=3,gpts=1,conversations=2", seed=3, now=NOW)
    with running_emulator(org, EmulatorConfig(rate_limit_scale=100)) as emulator:
        request = ScanRequest(settings=settings_for_emulator(emulator), policy=Policy(), full=True)
        with pytest.raises(typer.Exit) as exited:
            scan_and_report(Console(file=io.StringIO()), sqlite_store, request, None)
    assert exited.value.exit_code == 1
    err = capsys.readouterr().err
    first = min(s.id for s in sqlite_store.list_scans())
    assert err.splitlines() == [
        f"error: scan {first} was marked interrupted: its heartbeat stopped for too long, so a later scan took it "
        "for dead; its results were not stored; start a new scan"
    ]
    assert sqlite_store.count_instances() == 0


def test_cli_second_scan_exits_2_with_one_line(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    with Store.open(str(db)) as store:
        integration = store.ensure_integration("org-test", None, "org-test")
        running = store.begin_scan(integration.id, started_at=NOW)
    done = subprocess.run(
        [sys.executable, "-m", "openai_casb.cli", "scan", "--db", str(db), "--full"],
        env={**os.environ, "OPENAI_ADMIN_KEY": "sk-admin-test-0000000000000000", "OPENAI_ORG_ID": "org-test",
             "OPENAI_CASB_POLICY": "", "OPENAI_ADMIN_BASE_URL": "http://127.0.0.1:9/v1"},
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: a scan of org-test is running (scan {running}, started 2026-11-24 12:00:00 UTC")
    assert "Traceback" not in done.stderr + done.stdout
    with Store.open(str(db)) as store:
        assert [(s.id, s.status) for s in store.list_scans()] == [(running, ScanStatus.RUNNING)]
