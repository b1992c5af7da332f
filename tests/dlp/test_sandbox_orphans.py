"""A sandbox worker never outlives its supervisor: a scan killed with SIGKILL leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

SUPERVISOR = textwrap.dedent(
    """
    import sys, time
    from openai_casb.dlp.sandbox import Sandbox

    def square(x):
        return x * x

    with Sandbox(square, workers=2, timeout_seconds=30, memory_mb=256) as sandbox:
        assert sandbox.run(3) == 9  # starts a worker
        print(" ".join(str(w.process.pid) for w in sandbox._workers), flush=True)
        time.sleep(600)
    """
)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def test_workers_die_with_a_killed_supervisor() -> None:
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR], stdout=subprocess.PIPE, text=True)
    assert supervisor.stdout is not None
    workers = [int(pid) for pid in supervisor.stdout.readline().split()]
    assert workers, "the sandbox should have started a worker"
    assert all(_alive(pid) for pid in workers)
    os.kill(supervisor.pid, signal.SIGKILL)
    supervisor.wait(timeout=30)
    deadline = time.monotonic() + 30  # a bound on the wait, not a timing assertion
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in workers if _alive(pid)] == [], "orphaned sandbox workers"
