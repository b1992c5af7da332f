"""Two processes crawling with the same API key stay within its quota together through the Redis limiter.

The emulator's window is shortened to 2 s (and the clients' to match) so that a quota is exceeded,
and waited out, within seconds. The control run, with each process's own in-memory limiter, is
refused by the emulator: the shared run's zero refusals are due to sharing.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openai_casb.cli.demo_cmd import settings_for_emulator
from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator
from tests.distributed.test_distributed_scan import write_config

pytestmark = pytest.mark.redis

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
WINDOW = 2.0
QUOTA = 4  # per template per window; each process reads 6 projects' keys: 12 requests on one template
CRAWLER = """
import asyncio, sys
from datetime import UTC, datetime
from pathlib import Path
from openai_casb.config import load_settings
from openai_casb.crawl import crawl
from openai_casb.distributed.ratelimit import shared_limiter

settings = load_settings(config_file=Path(sys.argv[1]), env={})
limiter = shared_limiter(sys.argv[2], settings) if sys.argv[2] != "local" else None
result = asyncio.run(crawl(settings, now=datetime.now(UTC), groups=frozenset({"admin"}), limiter=limiter))
print(result.inventory.sources)
"""


def crawl_twice(config: Path, redis: str) -> None:
    processes = [subprocess.Popen([sys.executable, "-c", CRAWLER, str(config), redis],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    for process in processes:
        output, _ = process.communicate(timeout=90)
        assert process.returncode == 0, output.decode()[-2000:]


@pytest.fixture
def short_window(monkeypatch: pytest.MonkeyPatch) -> None:
    import openai_casb.emulator.ratelimit as emulator_quota

    monkeypatch.setattr(emulator_quota, "WINDOW_SECONDS", WINDOW)


def config_for(emulator: object, path: Path) -> Path:
    settings = settings_for_emulator(emulator).model_copy(update={  # type: ignore[arg-type]
        "admin_requests_per_window": QUOTA, "rate_window_seconds": WINDOW, "max_retries": 3,
        "max_retry_after_seconds": 5.0,
    })
    return write_config(settings, path, extra=("rate_window_seconds", "max_retries", "max_retry_after_seconds"))


def test_two_processes_share_one_quota(short_window: None, redis_url: str, tmp_path: Path) -> None:
    org = generate_org("users=5,projects=6,keys_per_project=1,admin_keys=1,gpts=0,conversations=0", seed=1, now=NOW)
    config = EmulatorConfig(admin_rate_per_min=QUOTA)
    with running_emulator(org, config) as emulator:
        crawl_twice(config_for(emulator, tmp_path / "shared.toml"), redis_url)
        shared = emulator.stats()
    assert shared["requests"]["GET /v1/organization/projects/{project_id}/api_keys"] == 12
    assert shared["rate_limited"] == 0

    with running_emulator(org, config) as emulator:
        crawl_twice(config_for(emulator, tmp_path / "local.toml"), "local")
        alone = emulator.stats()
    assert alone["rate_limited"] > 0  # the control: two private limiters together exceed the quota
