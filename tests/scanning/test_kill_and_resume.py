"""A real `openai-casb scan` process SIGKILLed at several points: the database stays consistent,
earlier results stand, the interrupted scan is marked so, and the next scan completes without
duplicating anything."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator
from openai_casb.emulator.server import RunningEmulator
from openai_casb.store import SCAN_STALE_ENV, InstanceStatus, ScanStatus, Store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ORG = (
    "users=150,invites=20,projects=8,keys_per_project=3,admin_keys=4,gpts=30,"
    "chatgpt_projects=6,conversations=300,files=80"
)
# Kill points, as fractions of how long an uninterrupted scan takes (start-up included).
KILL_AT = (0.35, 0.5, 0.65, 0.8, 0.95)


def scan_command(emulator: RunningEmulator, db: Path, config: Path) -> tuple[list[str], dict[str, str]]:
    config.write_text(
        "admin_requests_per_window = 10000\n"
        "compliance_list_requests_per_window = 10000\n"
        "compliance_object_requests_per_window = 10000\n"
    )
    env = {
        **os.environ,
        "OPENAI_ADMIN_KEY": emulator.admin_key,
        "OPENAI_COMPLIANCE_KEY": emulator.compliance_key,
        "OPENAI_ORG_ID": emulator.organization_id,
        "CHATGPT_WORKSPACE_ID": emulator.workspace_id,
        "OPENAI_ADMIN_BASE_URL": f"{emulator.base_url}/v1",
        "CHATGPT_COMPLIANCE_BASE_URL": f"{emulator.base_url}/v1",
        "OPENAI_CASB_POLICY": "",
        SCAN_STALE_ENV: "0",  # a killed scan is dead at once, not after its heartbeat ages 5 minutes
    }
    command = [sys.executable, "-m", "openai_casb.cli", "scan", "--db", str(db), "--config", str(config), "--full"]
    return command, env


def _survivors(db: Path) -> list[int]:
    """Processes still running a scan of this database (e.g. sandbox workers of a killed scan)."""
    deadline = time.monotonic() + 30  # a bound on the wait, not a timing assertion
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    state = (entry / "stat").read_text().split()[2]
                except OSError:
                    continue
                if str(db) in cmdline and state != "Z":
                    found.append(int(entry.name))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _scan_count(db: Path) -> int:
    with sqlite3.connect(db) as raw:
        return int(raw.execute("SELECT count(*) FROM scans").fetchone()[0])


def instances(db: Path) -> list[tuple[str, str, str]]:
    with Store.open(str(db)) as store:
        return [(i.finding_type_id, i.asset_id, i.status) for i in store.list_instances(limit=100_000)]


def test_scan_killed_at_any_point_leaves_a_consistent_database(tmp_path: Path) -> None:
    org = generate_org(ORG, seed=5, now=NOW)
    db = tmp_path / "kill.db"
    with running_emulator(org, EmulatorConfig(rate_limit_scale=100, latency_ms=15)) as emulator:
        command, env = scan_command(emulator, db, tmp_path / "casb.toml")
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        # Kill points come from a warm scan: later scans reuse the first one's file verdicts.
        started = time.monotonic()
        warm = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
        duration = time.monotonic() - started
        assert warm.returncode == 0, warm.stderr[-2000:]
        baseline = instances(db)
        assert baseline

        killed = 0
        for fraction in KILL_AT:
            scans_before = _scan_count(db)
            started = time.monotonic()
            child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # Kill points are counted from the moment the scan is recorded, not from the process
            # start: on a busy machine the start-up alone can outlast a fixed fraction.
            while _scan_count(db) == scans_before and child.poll() is None:
                time.sleep(0.02)
            time.sleep(max(0.0, duration * fraction - (time.monotonic() - started)))
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
                killed += 1
            child.wait(timeout=60)
            with sqlite3.connect(db) as raw:
                assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert instances(db) == baseline, "a killed scan changed the previous results"
        assert killed >= 3, "the scan finished before it could be killed; slow the emulator down"
        assert _survivors(db) == [], "a killed scan left processes behind (its sandbox workers)"

        final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert final.returncode == 0, final.stderr[-2000:]
    with Store.open(str(db)) as store:
        scans = store.list_scans(limit=100)
        statuses = [s.status for s in scans]
        # A kill during start-up leaves no scan; one after the commit leaves a complete one.
        assert 2 <= statuses.count(ScanStatus.INTERRUPTED) <= killed
        assert statuses.count(ScanStatus.COMPLETE) >= 3
        assert ScanStatus.RUNNING not in statuses
        after = store.list_instances(limit=100_000)
    assert len(after) == len({(i.finding_type_id, i.asset_id) for i in after}), "duplicated instance"
    assert sorted((i.finding_type_id, i.asset_id) for i in after) == sorted((t, a) for t, a, _ in baseline)
    assert {i.status for i in after} == {InstanceStatus.ACTIVE}


@pytest.mark.parametrize("flag", ["--fail-on"])
def test_scan_cli_rejects_garbage_flags(flag: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "openai_casb.cli", "scan", "--db", str(tmp_path / "x.db"), flag, "catastrophic"],
        env={**os.environ, "OPENAI_ADMIN_KEY": "sk-admin-test-0000000000000000", "OPENAI_ORG_ID": "org-test"},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 2
    assert "unknown severity" in done.stderr
    assert "Traceback" not in done.stderr
