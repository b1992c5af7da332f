"""A small supervised pool of worker processes that parse untrusted files.

Each worker runs with an address-space limit (RLIMIT_AS) and a CPU-time limit (RLIMIT_CPU), and
the supervisor enforces a wall-clock timeout per job. A worker that hangs, crashes or runs out of
memory is killed and replaced; its job comes back as a `SandboxFailure` with the reason. One job
is lost, never the pool.

Workers are forked, so the task (and whatever it closes over, such as a compiled DLP engine) is
inherited rather than pickled; only jobs and results cross the pipe.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import faulthandler
import math
import multiprocessing
import os
import resource
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")
Value = TypeVar("Value")

_MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class SandboxFailure:
    """A job that produced no result; `reason` is fit to show a person."""

    reason: str


@dataclass(frozen=True, slots=True)
class Ready(Generic[Value]):
    """Something decided without a worker (a cache hit): `map` hands it back in turn, at once."""

    value: Value


@dataclass(slots=True)
class _Worker:
    process: BaseProcess
    conn: Connection
    job: Any = None
    deadline: float = 0.0
    busy: bool = False


def _virtual_memory_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _limit_cpu(seconds: float) -> None:
    """Soft CPU limit for the next job: the CPU already used plus the job's allowance."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds) + 1
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _die_with_parent(parent_pid: int) -> None:
    """A worker must not outlive its supervisor: when a scan is killed (SIGKILL included), its
    workers would otherwise wait forever on a pipe no one will write to. Linux delivers SIGKILL to
    the worker when the parent dies; the pid check covers a parent that died before the prctl."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(0)


def _worker_main(
    conn: Connection,
    supervisor_end: Connection,
    parent_pid: int,
    task: Callable[[Any], Any],
    memory_mb: int,
    timeout_seconds: float,
) -> None:
    _die_with_parent(parent_pid)
    supervisor_end.close()  # inherited through fork; holding it would hide the supervisor's death
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the supervisor's to handle
    faulthandler.disable()  # a parser crash is reported by the supervisor, not dumped to stderr
    # The limit is headroom on top of what the forked interpreter already maps.
    limit = _virtual_memory_bytes() + memory_mb * _MB
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        _limit_cpu(timeout_seconds)
        exhausted = False
        try:
            reply: tuple[str, Any] = ("ok", task(job))
        except MemoryError:
            reply, exhausted = ("fatal", f"over the memory limit ({memory_mb} MB)"), True
        except BaseException as error:  # a task bug must not take the worker's protocol down
            reply = ("failed", f"worker error ({type(error).__name__})")
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return
        if exhausted:
            return  # the heap may be fragmented or half-built objects left: start afresh


def _death_reason(exitcode: int | None, memory_mb: int, timeout_seconds: float) -> str:
    if exitcode is None:
        return "worker stopped responding"
    if exitcode < 0:
        signum = -exitcode
        if signum == signal.SIGXCPU:
            return f"over the CPU time limit ({timeout_seconds:g} s)"
        if signum == signal.SIGKILL:
            return f"worker killed (likely over the memory limit, {memory_mb} MB)"
        return f"parser crashed (signal {signal.Signals(signum).name})"
    return f"parser crashed (exit code {exitcode})"


class Sandbox(Generic[Job, Result]):
    """Runs `task(job)` in `workers` sandboxed processes; use as a context manager."""

    def __init__(self, task: Callable[[Job], Result], *, workers: int, timeout_seconds: float, memory_mb: int) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._task = task
        self._size = workers
        self._timeout = timeout_seconds
        self._memory_mb = memory_mb
        self._context = multiprocessing.get_context("fork")
        self._workers: list[_Worker] = []
        self.replaced_workers = 0

    def __enter__(self) -> Sandbox[Job, Result]:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _start_worker(self) -> _Worker:
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_worker_main,
            args=(child, parent, os.getpid(), self._task, self._memory_mb, self._timeout),
            daemon=True,
        )
        process.start()
        child.close()
        worker = _Worker(process=process, conn=parent)
        self._workers.append(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=5)
        worker.conn.close()
        self._workers.remove(worker)

    def run(self, job: Job) -> Result | SandboxFailure:
        jobs: list[Job | Ready[None]] = [job]
        for item in self.map(jobs):
            if not isinstance(item, Ready):
                return item[1]
        raise RuntimeError("sandbox returned no outcome")  # unreachable: map yields once per job

    def map(self, jobs: Iterable[Job | Ready[Value]]) -> Iterator[tuple[Job, Result | SandboxFailure] | Ready[Value]]:
        """(job, result or failure) for every job, in completion order; `Ready` items pass straight through."""
        pending = iter(jobs)
        exhausted = False
        try:
            while True:
                while not exhausted and sum(w.busy for w in self._workers) < self._size:
                    try:
                        job = next(pending)
                    except StopIteration:
                        exhausted = True
                        break
                    if isinstance(job, Ready):
                        yield job
                    else:
                        self._dispatch(job)
                busy = [w for w in self._workers if w.busy]
                if not busy:
                    return
                wait_for = max(0.0, min(w.deadline for w in busy) - time.monotonic())
                ready = wait([w.conn for w in busy], timeout=wait_for)
                for worker in busy:
                    if worker.conn in ready:
                        yield worker.job, self._collect(worker)
                    elif time.monotonic() >= worker.deadline:
                        job = worker.job
                        self._discard(worker)
                        self.replaced_workers += 1
                        yield job, SandboxFailure(f"timed out after {self._timeout:g} s")
        finally:
            for worker in [w for w in self._workers if w.busy]:
                self._discard(worker)  # abandoned mid-job: its state is unknown

    def _dispatch(self, job: Job) -> None:
        worker = next((w for w in self._workers if not w.busy and w.process.is_alive()), None)
        if worker is None:
            worker = self._start_worker()
        worker.job, worker.busy = job, True
        worker.deadline = time.monotonic() + self._timeout
        # If the worker died while idle, _collect sees the closed pipe and reports it.
        with contextlib.suppress(OSError, ValueError):
            worker.conn.send(job)

    def _collect(self, worker: _Worker) -> Result | SandboxFailure:
        try:
            status, payload = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(timeout=5)
            reason = _death_reason(worker.process.exitcode, self._memory_mb, self._timeout)
            self._discard(worker)
            self.replaced_workers += 1
            return SandboxFailure(reason)
        worker.job, worker.busy = None, False
        if status == "ok":
            result: Result = payload
            return result
        if status == "fatal":  # the worker exits after such a failure: replace it
            self._discard(worker)
            self.replaced_workers += 1
        return SandboxFailure(str(payload))

    def close(self) -> None:
        for worker in list(self._workers):
            if not worker.busy:
                with contextlib.suppress(OSError, ValueError):
                    worker.conn.send(None)
        for worker in list(self._workers):
            worker.process.join(timeout=1)
            self._discard(worker)
