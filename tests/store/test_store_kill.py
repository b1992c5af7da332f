"""A scan SIGKILLed inside finish_scan leaves the previous results standing, on both databases."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from store_helpers import day, key, scan

from openai_casb.store import SCAN_STALE_ENV, Integration, Store

CHILD = Path(__file__).with_name("kill_child.py")
BASELINE = [f"k{n:03}" for n in range(50)]
NEXT = [f"k{n:03}" for n in range(25, 80)]  # 25 resolve, 25 stay, 30 are new


def snapshot(store: Store) -> list[tuple[str, str, object]]:
    return [(v.asset_id, str(v.status), v.last_detected) for v in store.list_instances(limit=10_000)]


def run_child_until_paused(url: str, integration_id: int, point: str) -> None:
    # The scans killed here are dead at once: no need to wait for their heartbeats to age (SCAN_STALE_ENV).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(CHILD.parent), os.environ.get("PYTHONPATH", "")]),
           SCAN_STALE_ENV: "0"}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), url, str(integration_id), point, json.dumps(NEXT)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line == "PAUSED", f"child did not reach {point}: {line!r} {child.stderr.read() if child.stderr else ''}"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        assert child.returncode == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()


def test_kill_during_finish_scan_keeps_previous_results(db_url: str, store: Store, integration: Integration) -> None:
    scan(store, integration.id, [key(k) for k in BASELINE], day(0))
    before = snapshot(store)
    events_before = len(store.events())

    for point in ("flush:1", "flush:2", "flush:3", "before_commit"):
        run_child_until_paused(db_url, integration.id, point)
        assert snapshot(store) == before, f"killed at {point}"
        assert len(store.events()) == events_before
        assert store.list_scans()[0].status == "running"  # until the next scan begins

    store.scan_stale_after = timedelta(0)  # the killed scans are dead; a live one would refuse this scan
    summary = scan(store, integration.id, [key(k) for k in NEXT], day(40))
    scans = store.list_scans()
    assert [s.status for s in scans] == ["complete", "interrupted", "interrupted", "interrupted", "interrupted",
                                         "complete"]
    assert (summary.new, summary.resolved, summary.detected) == (30, 25, 55)
    views = store.list_instances(limit=10_000)
    assert len(views) == 80
    assert len({v.asset_id for v in views}) == 80  # no duplicated instance
    assert sum(v.status == "active" for v in views) == 55
