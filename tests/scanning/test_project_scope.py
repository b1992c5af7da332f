"""A scan narrowed to one project (OPENAI_PROJECT_ID) never resolves the other projects' findings."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from openai_casb.cli.demo_cmd import settings_for_emulator
from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator
from openai_casb.policy import Policy
from openai_casb.scanning import ScanRequest, run_scan
from openai_casb.store import Store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_project_scoped_scan_resolves_nothing_of_other_projects(tmp_path: Path) -> None:
    org = generate_org("users=20,projects=4,keys_per_project=4,gpts=2,conversations=4,files=2", seed=4, now=NOW)
    one_project = org.projects.item(0)["id"]
    with running_emulator(org, EmulatorConfig(rate_limit_scale=100)) as emulator, \
            Store.open(str(tmp_path / "scope.db")) as store:
        settings = settings_for_emulator(emulator)
        full = asyncio.run(run_scan(store, ScanRequest(settings=settings, policy=Policy()), now=NOW))
        keys_before = {v.asset_id for v in store.list_instances(limit=1000) if v.asset_kind == "project_api_key"}
        narrowed = settings.model_copy(update={"project_id": one_project})
        scoped = asyncio.run(run_scan(store, ScanRequest(settings=narrowed, policy=Policy()), now=NOW))
        keys_after = {v.asset_id for v in store.list_instances(limit=1000, status="active")
                      if v.asset_kind == "project_api_key"}
    assert full.summary.status == "complete"
    assert len(keys_before) > 4, "the org should have key findings in several projects"
    assert scoped.summary.resolved == 0
    assert scoped.summary.status == "partial"
    assert keys_after == keys_before
