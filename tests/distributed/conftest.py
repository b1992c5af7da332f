"""Real Redis and PostgreSQL for the distributed tests, and real Celery worker processes.

Set OPENAI_CASB_TEST_REDIS_URL (a db this suite may flush, e.g. redis://127.0.0.1:6379/15) and
OPENAI_CASB_TEST_POSTGRES_URL. Without them the tests skip, unless OPENAI_CASB_REQUIRE_SERVICES=1
(CI), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis

from openai_casb.store import Store
from tests.distributed import clocked

REDIS_ENV = "OPENAI_CASB_TEST_REDIS_URL"
POSTGRES_ENV = "OPENAI_CASB_TEST_POSTGRES_URL"


def service_url(name: str) -> str:
    """The URL a service test reads from `name`; skips (fails under OPENAI_CASB_REQUIRE_SERVICES=1) without it."""
    url = os.environ.get(name, "").strip()
    if url:
        return url
    reason = f"{name} is not set (a Redis/PostgreSQL the distributed tests may use)"
    if os.environ.get("OPENAI_CASB_REQUIRE_SERVICES") == "1":
        pytest.fail(f"OPENAI_CASB_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    pytest.importorskip("celery", reason="the distributed extra is not installed")
    from redis import Redis

    url = service_url(REDIS_ENV)
    with Redis.from_url(url) as client:
        client.flushdb()  # only the test db named by the URL
        yield url
        client.flushdb()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of our own on the test server (dropped at the end).

    A schema would not do: the store's migrations create the pg_trgm extension, which exists once
    per database, in whichever schema created it first, and another schema on the search path
    would also expose another suite's tables.
    """
    yield from private_database(service_url(POSTGRES_ENV), "casb_distributed")


def private_database(url: str, prefix: str) -> Iterator[str]:
    import sqlalchemy as sa

    name = f"{prefix}_{secrets.token_hex(4)}"
    server = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield sa.make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        server.dispose()


@dataclass
class Workers:
    """Celery worker processes (`openai-casb worker`) sharing one broker and database."""

    env: dict[str, str]
    log_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, count: int) -> None:
        for _ in range(count):
            n = len(self.processes)
            log = (self.log_dir / f"worker{n}.log").open("wb")
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "openai_casb.cli", "worker", "--pool=solo",
                 "-n", f"w{n}-{secrets.token_hex(3)}@test", "--loglevel=INFO"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT,
            ))

    def kill(self, index: int) -> None:
        """SIGKILL a worker and its pool process: nothing gets to clean up."""
        process = self.processes[index]
        children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
        process.send_signal(signal.SIGKILL)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(child), signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill(self.processes.index(process))

    def task_ids(self, index: int) -> tuple[set[str], set[str]]:
        """Ids of the tasks a worker received, and of those it finished (from its log)."""
        text = (self.log_dir / f"worker{index}.log").read_text(errors="replace")
        received = set(re.findall(r"Task [\w.]+\[([0-9a-f-]+)\] received", text))
        finished = set(re.findall(r"Task [\w.]+\[([0-9a-f-]+)\] (?:succeeded|failed|retry)", text))
        return received, finished

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.log_dir.glob("worker*.log")))


def worker_env(redis_url: str, db_url: str, configs: list[Path], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHATGPT_"))}
    env.update({
        "OPENAI_CASB_BROKER_URL": redis_url,
        "OPENAI_CASB_DB": db_url,
        "OPENAI_CASB_INTEGRATIONS": os.pathsep.join(str(p) for p in configs),
        "OPENAI_CASB_LOCK_TTL_SECONDS": "10",
        "OPENAI_CASB_DLP_BATCH_FILES": "8",
        "OPENAI_CASB_VISIBILITY_TIMEOUT_SECONDS": "15",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def wait_for(condition: object, timeout: float, what: str, workers: Workers | None = None) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n" + (workers.logs() if workers else ""))


def start_scheduler(env: dict[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    log = (log_dir / "scheduler.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "openai_casb.cli", "scheduler", "--schedule-file", str(log_dir / "beat-state")],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis]:
    with Redis.from_url(redis_url) as client:
        yield client


@pytest.fixture
def store(postgres_url: str) -> Iterator[Store]:
    """A PostgreSQL store on a clock the test moves (clocked.Clock), stale after 5 minutes."""
    with Store.open(postgres_url) as opened:
        opened.clock = clocked.Clock()
        opened.scan_stale_after = timedelta(minutes=5)
        yield opened


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    """Celery worker processes a test starts (`workers.start(n)`), stopped at its end."""
    pool = Workers(env={}, log_dir=tmp_path)
    yield pool
    pool.stop()
