"""A whole scan over real HTTP against the emulator, compared with an independent oracle of findings.md."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from openai_casb.cli.demo_cmd import settings_for_emulator
from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator
from openai_casb.emulator.org import Org
from openai_casb.inventory.model import Source
from openai_casb.policy import Policy
from openai_casb.scanning import ScanRequest, ScanResult, run_scan
from openai_casb.store import InstanceStatus, Store
from tests.scanning import oracle

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ORG = (
    "users=120,invites=30,projects=6,keys_per_project=4,admin_keys=5,gpts=30,"
    "chatgpt_projects=8,conversations=150,files=60"
)
# Image files are scanned only through OCR, and OCR needs tesseract, which this machine may lack.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".bmp", ".webp")


def scan(org: Org, store: Store, policy: Policy | None = None, *, full: bool = False,
         config: EmulatorConfig | None = None) -> ScanResult:
    with running_emulator(org, config or EmulatorConfig(rate_limit_scale=100)) as emulator:
        request = ScanRequest(settings=settings_for_emulator(emulator), policy=policy or Policy(), full=full)
        return asyncio.run(run_scan(store, request, now=NOW))


def stored(store: Store, status: InstanceStatus = InstanceStatus.ACTIVE) -> set[tuple[str, str]]:
    return {(i.finding_type_id, i.asset_id) for i in store.list_instances(status=status, limit=100_000)}


@pytest.fixture(scope="module")
def generated() -> Org:
    return generate_org(ORG, seed=11, now=NOW)


@pytest.fixture(scope="module")
def scanned(generated: Org, tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, ScanResult]:
    store = Store.open(str(tmp_path_factory.mktemp("e2e") / "scan.db"))
    return store, scan(generated, store)


def test_every_source_is_read_completely(scanned: tuple[Store, ScanResult]) -> None:
    _store, result = scanned
    assert {s: r.state for s, r in result.sources.items() if r.state != "complete"} == {}
    assert result.summary.status == "complete"
    assert result.not_evaluated_type_ids == frozenset()


def test_posture_findings_are_exactly_those_of_findings_md(
    generated: Org, scanned: tuple[Store, ScanResult]
) -> None:
    store, _result = scanned
    dlp_types = {oracle.T["dlp_conversation"], oracle.T["dlp_gpt"], oracle.T["dlp_project"]}
    found = {item for item in stored(store) if item[0] not in dlp_types}
    expected = oracle.posture_findings(generated, NOW.timestamp())
    assert expected, "the generated org should carry posture risks"
    assert found - expected == set(), "reported but not a finding by findings.md"
    assert expected - found == set(), "a finding by findings.md that the scan missed"
    for type_id in oracle.T.values():  # the generator plants every kind of risk
        assert any(t == type_id for t, _ in found | {i for i in stored(store) if i[0] in dlp_types}), type_id


def test_dlp_flags_exactly_the_files_with_planted_values(generated: Org, scanned: tuple[Store, ScanResult]) -> None:
    store, result = scanned
    places = oracle.file_locations(generated)
    planted = generated.planted_files()
    readable = {
        file_id for file_id in planted
        if (stored_file := generated.files.get(file_id)) is not None and not stored_file.expired
        and not stored_file.name.lower().endswith(IMAGE_SUFFIXES)
    }
    expected = {(type_id, file_id) for file_id in readable for type_id in places.get(file_id, ())}
    dlp_types = {oracle.T["dlp_conversation"], oracle.T["dlp_gpt"], oracle.T["dlp_project"]}
    found = {item for item in stored(store) if item[0] in dlp_types}
    assert expected, "the generated org should carry planted files"
    assert found - {(t, f) for f in planted for t in places.get(f, ())} == set(), "a file without planted data"
    assert expected - found == set(), "a readable file with planted data was not flagged"
    assert result.dlp.not_scanned_reasons, "expired uploads are reported as not scanned"


def test_no_instance_evidence_holds_a_planted_value(generated: Org, scanned: tuple[Store, ScanResult]) -> None:
    store, _result = scanned
    values = [value for found in generated.planted_files().values() for _kind, value in found]
    text = repr([(i.evidence, i.asset_metadata) for i in store.list_instances(limit=100_000)])
    leaked = [value[:12] + "..." for value in values if value in text]
    assert leaked == []


def test_rescan_of_an_unchanged_org_is_incremental_and_changes_nothing(generated: Org, tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "twice.db"))
    first = scan(generated, store)
    second = scan(generated, store)
    assert first.summary.new > 0
    assert (second.summary.new, second.summary.reopened, second.summary.resolved) == (0, 0, 0)
    conversations = Source.CONVERSATIONS
    assert second.sources[conversations].objects < first.sources[conversations].objects / 10
    assert second.dlp.scanned.total() + second.dlp.not_scanned.total() < (
        first.dlp.scanned.total() + first.dlp.not_scanned.total()
    )
    # Conversation files were not all read again, so their instances stand, unresolved.
    assert second.sources[Source.CONVERSATION_FILES].state == "partial"
    instances = store.list_instances(limit=100_000)
    assert len(instances) == len({(i.finding_type_id, i.asset_id) for i in instances}), "duplicated instance"
    assert {i.status for i in instances} == {InstanceStatus.ACTIVE}


def test_scan_without_a_workspace_evaluates_admin_findings_only(generated: Org, tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "admin-only.db"))
    with running_emulator(generated, EmulatorConfig(rate_limit_scale=100)) as emulator:
        settings = settings_for_emulator(emulator).model_copy(update={"workspace_id": None})
        result = asyncio.run(run_scan(store, ScanRequest(settings=settings, policy=Policy()), now=NOW))
    assert result.summary.status == "complete"
    assert result.sources[Source.GPTS].state == "skipped"
    skipped = {oracle.T[name] for name in ("custom_actions", "gpt_store", "dlp_conversation", "dlp_gpt")}
    assert skipped <= result.not_evaluated_type_ids
    assert oracle.T["admin_key_not_rotated"] in result.evaluated_type_ids
    assert {t for t, _ in stored(store)} & skipped == set()


def test_full_rescan_downloads_no_file_it_has_already_judged(generated: Org, tmp_path: Path) -> None:
    def downloads(stats: dict[str, Any]) -> int:
        return sum(n for endpoint, n in stats["requests"].items() if "files" in endpoint)

    store = Store.open(str(tmp_path / "files.db"))
    dlp_types = {oracle.T["dlp_conversation"], oracle.T["dlp_gpt"], oracle.T["dlp_project"]}
    with running_emulator(generated, EmulatorConfig(rate_limit_scale=100)) as emulator:
        request = ScanRequest(settings=settings_for_emulator(emulator), policy=Policy(), full=True)
        first = asyncio.run(run_scan(store, request, now=NOW))
        flagged_first = {item for item in stored(store) if item[0] in dlp_types}
        after_first = downloads(emulator.stats())
        second = asyncio.run(run_scan(store, request, now=NOW))
        after_second = downloads(emulator.stats())
    assert after_first > 0
    # Only files whose outcome a later scan may change are fetched again (images while OCR is unavailable).
    retryable = sum(n for reason, n in first.dlp.not_scanned_reasons.items() if not reason.startswith("file expired"))
    assert after_second - after_first == retryable, "a file judged for good was downloaded again"
    assert len(second.dlp.matched) == len(first.dlp.matched) > 0
    assert {item for item in stored(store) if item[0] in dlp_types} == flagged_first
    assert second.summary.resolved == 0
