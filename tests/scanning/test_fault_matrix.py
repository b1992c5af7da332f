"""Reliability: for every fault kind of the emulator and several seeds, a scan either reports exactly the
fault-free findings, or ends partial with a reason for every incomplete source, and resolves nothing.

Each faulty scan runs on a copy of a database that already holds the fault-free scan, so a faulty
read that wrongly looked complete would show up as resolved instances.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openai_casb.cli.demo_cmd import settings_for_emulator
from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator
from openai_casb.emulator.config import FAULT_KINDS
from openai_casb.emulator.org import Org
from openai_casb.policy import Policy
from openai_casb.scanning import ScanRequest, ScanResult, run_scan
from openai_casb.store import InstanceStatus, Store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ORG = (
    "users=60,invites=12,projects=4,keys_per_project=3,admin_keys=3,gpts=16,"
    "chatgpt_projects=4,conversations=80,files=24"
)
SEEDS = (1, 2)


def faulty_scan(org: Org, db: Path, config: EmulatorConfig) -> tuple[ScanResult, dict[str, int]]:
    with running_emulator(org, config) as emulator:
        settings = settings_for_emulator(emulator).model_copy(
            # Small waits so the matrix stays fast; retries and budgets stay as they are.
            update={"timeout_seconds": 1.0, "backoff_base_seconds": 0.01, "backoff_cap_seconds": 0.05,
                    "max_retry_after_seconds": 2.0, "conversations_page_size": 2, "page_size": 10}
        )
        with Store.open(str(db)) as store:
            request = ScanRequest(settings=settings, policy=Policy(), full=True)
            result = asyncio.run(run_scan(store, request, now=NOW))
        return result, dict(emulator.stats()["faults"])


def active(db: Path) -> set[tuple[str, str]]:
    with Store.open(str(db)) as store:
        return {(i.finding_type_id, i.asset_id) for i in store.list_instances(status=InstanceStatus.ACTIVE,
                                                                              limit=100_000)}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Org, Path, set[tuple[str, str]]]:
    org = generate_org(ORG, seed=21, now=NOW)
    db = tmp_path_factory.mktemp("faults") / "baseline.db"
    result, faults = faulty_scan(org, db, EmulatorConfig(rate_limit_scale=100))
    assert result.summary.status == "complete"
    assert faults == {}
    return org, db, active(db)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_faults_never_change_or_resolve_findings(
    kind: str, seed: int, baseline: tuple[Org, Path, set[tuple[str, str]]], tmp_path: Path
) -> None:
    org, baseline_db, expected = baseline
    db = tmp_path / "scan.db"
    shutil.copy(baseline_db, db)
    config = EmulatorConfig(rate_limit_scale=100, fault_rate=0.2, fault_seed=seed, fault_kinds=(kind,),
                            stall_seconds=3.0)
    result, faults = faulty_scan(org, db, config)
    assert sum(faults.values()) > 0, f"no {kind} fault was injected: the test would prove nothing"
    assert result.summary.resolved == 0, "a faulty read resolved instances that still exist"
    if result.summary.status == "complete":
        assert active(db) == expected
    else:
        incomplete = [r for r in result.sources.values() if r.state in ("failed", "partial")]
        assert incomplete
        assert all(r.reason for r in incomplete), "every incomplete source says why"
        assert active(db) == expected, "nothing seen before may disappear"
