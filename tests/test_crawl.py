"""The crawl against the emulator: the inventory read under faults equals the one read without."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from openai_casb.config import Settings, load_settings
from openai_casb.connectors.models import admin as am
from openai_casb.connectors.models import compliance as cm
from openai_casb.crawl import CrawlResult, audit_log_days, crawl
from openai_casb.emulator import FAULT_KINDS, EmulatorConfig, generate_org, running_emulator
from openai_casb.inventory import collect
from openai_casb.inventory.model import FileRef, Inventory, Source

NOW = datetime(2026, 11, 1, tzinfo=UTC)
SPEC = (
    "users=12,invites=4,projects=3,keys_per_project=3,admin_keys=2,gpts=6,chatgpt_projects=3,conversations=40,files=10"
)


def canonical(inventory: Inventory) -> dict[str, Any]:
    """Order-free, URL-free form: signed download URLs differ per emulator instance by design."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in sorted(value.items()) if k != "download_url"}
        if isinstance(value, list | tuple):
            return sorted((clean(v) for v in value), key=repr)
        return value

    data = dataclasses.asdict(inventory)
    data["sources"] = {s.value: (r.state, r.objects) for s, r in inventory.sources.items()}
    return clean(data)


def emulator_settings(emu: Any, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "admin_key": emu.admin_key,
        "compliance_key": emu.compliance_key,
        "workspace_id": emu.workspace_id,
        "org_id": emu.organization_id,
        "admin_base_url": emu.base_url + "/v1",
        "compliance_base_url": emu.base_url + "/v1",
        "backoff_base_seconds": 0.02,
        "backoff_cap_seconds": 0.2,
        "max_retries": 40,
        "timeout_seconds": 2.0,
        "page_size": 5,
        "conversations_page_size": 7,
        "admin_requests_per_window": 600,
    }
    values.update(extra)
    return load_settings(values, None, {})


def crawl_emulator(
    config: EmulatorConfig, seed: int = 7, source: Any = "auto", faults: dict[str, int] | None = None, **extra: Any
) -> tuple[CrawlResult, list[FileRef]]:
    org = generate_org(SPEC, seed=seed, now=NOW)
    files: list[FileRef] = []

    async def on_file(ref: FileRef) -> None:
        files.append(ref)

    with running_emulator(org, config) as emu:
        result = asyncio.run(
            crawl(emulator_settings(emu, **extra), now=NOW, on_file=on_file, conversations_source=source)
        )
        stats = emu.stats()
    assert stats["refused_non_get"] == 0
    if faults is not None:
        faults.update(stats["faults"])
    return result, files


@pytest.fixture(scope="module")
def baseline() -> tuple[CrawlResult, list[FileRef]]:
    return crawl_emulator(EmulatorConfig())


def test_clean_crawl_is_complete(baseline: tuple[CrawlResult, list[FileRef]]) -> None:
    result, files = baseline
    inv = result.inventory
    assert all(r.complete for r in inv.sources.values()), {s: r.reason for s, r in inv.sources.items()}
    assert len(inv.gpts) >= 1
    assert inv.persons
    assert inv.project_api_keys
    assert result.conversations_high_water_mark is not None
    assert len({f.file_id for f in files}) == len(files)


def test_crawl_keeps_compact_user_records_not_api_objects(baseline: tuple[CrawlResult, list[FileRef]]) -> None:
    result, _files = baseline
    org = generate_org(SPEC, seed=7, now=NOW)
    # Only the records the person join reads, made page by page; never the API models with their extra fields.
    assert [type(u) for u in result.org_users] == [collect.OrgUserRecord] * len(org.users)
    assert [type(u) for u in result.workspace_users] == [collect.WorkspaceUserRecord] * len(org.compliance_users)
    assert not any(hasattr(u, "__dict__") for u in [*result.org_users, *result.workspace_users])  # slots only
    # The persons joined from the records are those the API objects give.
    from_api = collect.persons(
        [am.OrgUser.model_validate(u) for u in org.users],
        [cm.WorkspaceUser.model_validate(u) for u in org.compliance_users],
        result.login_activity,
        result.conversation_activity,
    )
    assert result.inventory.persons == from_api


def test_crawl_can_drop_the_user_records_once_persons_are_joined(
    baseline: tuple[CrawlResult, list[FileRef]],
) -> None:
    result, _files = baseline
    org = generate_org(SPEC, seed=7, now=NOW)
    with running_emulator(org, EmulatorConfig()) as emu:
        lean = asyncio.run(crawl(emulator_settings(emu), now=NOW, keep_user_records=False))
    assert (lean.org_users, lean.workspace_users) == ([], [])
    assert lean.inventory.persons == result.inventory.persons


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_inventory_under_faults_equals_clean_read(baseline: tuple[CrawlResult, list[FileRef]], seed: int) -> None:
    clean_result, clean_files = baseline
    config = EmulatorConfig(fault_rate=0.2, fault_seed=seed, fault_kinds=FAULT_KINDS, stall_seconds=3.0)
    faulty, files = crawl_emulator(config)
    assert canonical(faulty.inventory) == canonical(clean_result.inventory)
    assert sorted(f.file_id for f in files) == sorted(f.file_id for f in clean_files)
    assert faulty.conversations_high_water_mark == clean_result.conversations_high_water_mark


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_kind_is_absorbed(baseline: tuple[CrawlResult, list[FileRef]], kind: str) -> None:
    clean_result, clean_files = baseline
    injected: dict[str, int] = {}
    config = EmulatorConfig(fault_rate=0.3, fault_seed=11, fault_kinds=(kind,), stall_seconds=3.0)
    faulty, files = crawl_emulator(config, faults=injected)
    assert injected.get(kind, 0) > 0  # the mode was really exercised
    assert canonical(faulty.inventory) == canonical(clean_result.inventory)
    assert sorted(f.file_id for f in files) == sorted(f.file_id for f in clean_files)


def test_logs_source_gives_the_same_inventory(baseline: tuple[CrawlResult, list[FileRef]]) -> None:
    clean_result, clean_files = baseline
    via_logs, files = crawl_emulator(EmulatorConfig(), source="logs")
    assert via_logs.conversations_read_from == "logs"
    assert canonical(via_logs.inventory) == canonical(clean_result.inventory)
    assert sorted(f.file_id for f in files) == sorted(f.file_id for f in clean_files)


# One log file per hour of activity: above the 100/min object quota, so lift it (emulator and client).
FAST_LOGS: dict[str, Any] = {"compliance_object_requests_per_window": 10_000}


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_logs_source_under_faults_equals_clean_read(baseline: tuple[CrawlResult, list[FileRef]], seed: int) -> None:
    """The Logs Platform path under every fault kind: a log file cut short, refused or dropped is fetched again."""
    clean_result, clean_files = baseline
    injected: dict[str, int] = {}
    config = EmulatorConfig(
        fault_rate=0.2, fault_seed=seed, fault_kinds=FAULT_KINDS, stall_seconds=3.0, rate_limit_scale=100
    )
    faulty, files = crawl_emulator(config, source="logs", faults=injected, **FAST_LOGS)
    assert injected
    assert faulty.conversations_read_from == "logs"
    assert canonical(faulty.inventory) == canonical(clean_result.inventory)
    assert sorted(f.file_id for f in files) == sorted(f.file_id for f in clean_files)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_logs_source_absorbs_truncated_log_files(baseline: tuple[CrawlResult, list[FileRef]], seed: int) -> None:
    clean_result, _clean_files = baseline
    injected: dict[str, int] = {}
    config = EmulatorConfig(
        fault_rate=0.3, fault_seed=seed, fault_kinds=("truncated", "error503", "reset"), rate_limit_scale=100
    )
    faulty, _files = crawl_emulator(config, source="logs", faults=injected, **FAST_LOGS)
    assert injected.get("truncated", 0) > 0
    assert canonical(faulty.inventory) == canonical(clean_result.inventory)


def test_files_download_from_emulator(tmp_path: Any) -> None:
    from openai_casb.connectors.downloads import make_downloader
    from openai_casb.connectors.session import open_clients

    org = generate_org(SPEC, seed=7, now=NOW)
    with running_emulator(org, EmulatorConfig()) as emu:
        settings = emulator_settings(emu)
        files: list[FileRef] = []

        async def on_file(ref: FileRef) -> None:
            files.append(ref)

        async def go() -> list[Any]:
            result = await crawl(settings, now=NOW, on_file=on_file)
            refs = [f for g in result.inventory.gpts for f in g.files] + files
            # Without the listed URL too: the endpoint's 307 must be followed without the key.
            refs += [dataclasses.replace(f, download_url=None) for f in refs]
            async with open_clients(settings) as clients:
                downloader = make_downloader(settings, clients)
                return [await downloader.download(ref, tmp_path) for ref in refs]

        results = asyncio.run(go())
        stats = emu.stats()
    assert results
    assert {r.status for r in results} <= {"downloaded", "expired"}
    assert any(r.downloaded for r in results)
    for r in results:
        if r.downloaded:
            assert r.path is not None
            assert r.path.stat().st_size == r.size_bytes
    assert any("files" in endpoint for endpoint in stats["requests"])


DAY_SECONDS = 86_400


def _login_org(login_days_ago: int) -> Any:
    from openai_casb.emulator.snapshot import org_from_dict

    now = int(NOW.timestamp())
    return org_from_dict({
        "organization": {"id": "org-logins"},
        "admin": {
            "users": [{"object": "organization.user", "id": "user-a", "name": "A", "email": "a@example.com",
                       "role": "reader", "added_at": now - 1000 * DAY_SECONDS, "is_service_account": False,
                       "api_key_last_used_at": None}],
            "audit_logs": [{"object": "organization.audit_log", "id": "ev-login", "type": "login.succeeded",
                            "effective_at": now - login_days_ago * DAY_SECONDS,
                            "actor": {"type": "session",
                                      "session": {"user": {"id": "user-a", "email": "a@example.com"}}}}],
        },
    })


def _crawl_logins(login_days_ago: int, inactive_user_days: int | None, **extra: Any) -> Inventory:
    with running_emulator(_login_org(login_days_ago), EmulatorConfig()) as emu:
        settings = emulator_settings(emu, compliance_key=None, workspace_id=None, **extra)
        result = asyncio.run(crawl(settings, now=NOW, inactive_user_days=inactive_user_days))
    assert result.inventory.sources[Source.ADMIN_AUDIT_LOGS].complete
    return result.inventory


def test_login_events_are_read_as_far_back_as_the_inactive_rule_needs() -> None:
    # Lookback 400 days (default), threshold 500: a login 450 days ago keeps the person active, so it is read.
    inventory = _crawl_logins(450, inactive_user_days=500)
    (person,) = inventory.persons
    assert person.last_login_at == NOW - timedelta(days=450)
    assert inventory.logins_read_since == NOW - timedelta(days=501)


def test_a_lookback_below_the_threshold_does_not_hide_logins() -> None:
    inventory = _crawl_logins(60, inactive_user_days=90, audit_log_lookback_days=30)
    (person,) = inventory.persons
    assert person.last_login_at == NOW - timedelta(days=60)
    assert inventory.logins_read_since == NOW - timedelta(days=91)


def test_a_longer_lookback_is_kept_and_the_window_read_is_recorded() -> None:
    inventory = _crawl_logins(450, inactive_user_days=90)
    (person,) = inventory.persons
    assert person.last_login_at is None  # older than the 400 days read
    assert inventory.logins_read_since == NOW - timedelta(days=400)
    inventory = _crawl_logins(450, inactive_user_days=90, audit_log_lookback_days=1000)
    assert inventory.persons[0].last_login_at == NOW - timedelta(days=450)
    assert inventory.logins_read_since == NOW - timedelta(days=1000)


def test_audit_log_days() -> None:
    assert audit_log_days(400, None) == 400
    assert audit_log_days(400, 90) == 400
    assert audit_log_days(400, 400) == 401
    assert audit_log_days(1, 90) == 91
