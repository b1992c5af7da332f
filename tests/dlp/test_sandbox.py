"""The supervised pool: hangs, crashes and memory exhaustion lose one job, never the pool."""

from __future__ import annotations

import os
import signal
import time

import pytest

from openai_casb.dlp.sandbox import Ready, Sandbox, SandboxFailure


def _task(job: str) -> str:
    if job == "hang":
        time.sleep(60)
    elif job == "spin":
        while True:
            pass
    elif job == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif job == "exit":
        os._exit(3)
    elif job == "memory":
        hog = [bytearray(16 * 1024 * 1024) for _ in range(200)]  # 3.2 GB, far over the limit
        return str(len(hog))
    elif job == "bug":
        raise KeyError("not shown")
    return f"done {job} in {os.getpid()}"


def _outcomes(jobs: list[str], timeout: float = 2.0, workers: int = 2) -> dict[str, str | SandboxFailure]:
    with Sandbox(_task, workers=workers, timeout_seconds=timeout, memory_mb=128) as pool:
        return {item[0]: item[1] for item in pool.map(jobs) if not isinstance(item, Ready)}


def test_every_failure_kind_loses_only_its_own_job() -> None:
    jobs = ["a", "hang", "b", "segfault", "c", "exit", "d", "memory", "e", "bug", "f"]
    outcomes = _outcomes(jobs)
    assert set(outcomes) == set(jobs)
    for ok in "abcdef":
        assert str(outcomes[ok]).startswith(f"done {ok}")
    assert outcomes["hang"] == SandboxFailure("timed out after 2 s")
    assert outcomes["segfault"] == SandboxFailure("parser crashed (signal SIGSEGV)")
    assert outcomes["exit"] == SandboxFailure("parser crashed (exit code 3)")
    assert outcomes["memory"] == SandboxFailure("over the memory limit (128 MB)")
    assert outcomes["bug"] == SandboxFailure("worker error (KeyError)")


def test_cpu_runaway_is_stopped() -> None:
    outcome = _outcomes(["spin", "after"], timeout=1.0, workers=1)
    assert isinstance(outcome["spin"], SandboxFailure)
    assert outcome["spin"].reason in ("timed out after 1 s", "over the CPU time limit (1 s)")
    assert str(outcome["after"]).startswith("done after")


def test_workers_are_reused_and_replaced() -> None:
    with Sandbox(_task, workers=1, timeout_seconds=5, memory_mb=128) as pool:
        first = pool.run("x")
        second = pool.run("y")
        assert str(first).split()[-1] == str(second).split()[-1]  # same pid: reused
        assert isinstance(pool.run("exit"), SandboxFailure)
        third = pool.run("z")
        assert str(third).split()[-1] != str(first).split()[-1]  # replaced
        assert pool.replaced_workers == 1


def test_abandoned_iteration_kills_busy_workers() -> None:
    with Sandbox(_task, workers=2, timeout_seconds=30, memory_mb=128) as pool:
        results = pool.map(["a", "hang", "hang"])
        next(results)
        results.close()
        assert not any(w.busy for w in pool._workers)


def test_ready_items_pass_through_in_turn_without_a_worker() -> None:
    with Sandbox(_task, workers=1, timeout_seconds=5, memory_mb=128) as pool:
        items = list(pool.map([Ready("cached-1"), "a", Ready("cached-2")]))
        assert items[0] == Ready("cached-1")
        assert Ready("cached-2") in items
        assert any(isinstance(i, tuple) and i[0] == "a" for i in items)
        assert len(items) == 3
    with Sandbox(_task, workers=1, timeout_seconds=5, memory_mb=128) as pool:
        assert list(pool.map([Ready(1), Ready(2)])) == [Ready(1), Ready(2)]
        assert pool._workers == []  # nothing to run: no worker started


def test_worker_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Sandbox(_task, workers=0, timeout_seconds=1, memory_mb=128)
