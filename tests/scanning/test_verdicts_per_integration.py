"""Remembered file verdicts belong to one integration: generated orgs reuse file ids
(file-E...0001), so an org scanned second must not get the first org's DLP results."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from openai_casb.cli.demo_cmd import settings_for_emulator
from openai_casb.emulator import EmulatorConfig, generate_org, running_emulator
from openai_casb.emulator.gen_files import FilePlan, GeneratedFiles
from openai_casb.emulator.org import Org
from openai_casb.inventory.model import AssetKind, FileRef, FileScan
from openai_casb.policy import Policy
from openai_casb.scanning import ScanRequest, run_scan
from openai_casb.scanning.file_cache import FileVerdicts
from openai_casb.store import Store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SPEC = "users=10,projects=1,keys_per_project=1,gpts=6,chatgpt_projects=3,conversations=30,files={files}"
DLP_KINDS = {"conversation_file", "gpt_file", "project_file"}


def scan(org: Org, store: Store) -> int:
    with running_emulator(org, EmulatorConfig(rate_limit_scale=100)) as emulator:
        request = ScanRequest(settings=settings_for_emulator(emulator), policy=Policy())
        return asyncio.run(run_scan(store, request, now=NOW)).integration.id


def dlp_instances(store: Store, integration_id: int) -> dict[tuple[str, str], dict[str, Any]]:
    """(type, file id) -> what the finding says of the file: its profiles, size and hash."""
    return {
        (i.finding_type_id, i.asset_id): {
            "matched_profiles": i.evidence["matched_profiles"],
            "total_matches": i.evidence["total_matches"],
            "size_bytes": i.evidence["file"]["size_bytes"],
            "content_sha256": i.evidence["file"]["content_sha256"],
        }
        for i in store.list_instances(integration_id, limit=100_000)
        if i.asset_kind in DLP_KINDS
    }


@pytest.fixture
def same_bytes_each_download(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated archives and office files carry the time they are built at (each download):
    built once per org and file, so the fresh-db scan and the shared-db scan see the same hashes."""
    built: dict[tuple[int, str], bytes] = {}
    content = GeneratedFiles._content

    def once(self: GeneratedFiles, plan: FilePlan) -> bytes:
        key = (id(self), plan.file_id)
        if key not in built:
            built[key] = content(self, plan)
        return built[key]

    monkeypatch.setattr(GeneratedFiles, "_content", once)


@pytest.mark.usefixtures("same_bytes_each_download")
def test_second_org_gets_exactly_its_own_dlp_results(tmp_path: Path) -> None:
    org_a = generate_org(SPEC.format(files=25), seed=5, now=NOW)
    org_b = generate_org(SPEC.format(files=20), seed=9, now=NOW)
    with Store.open(str(tmp_path / "fresh.db")) as fresh:
        expected = dlp_instances(fresh, scan(org_b, fresh))
    with Store.open(str(tmp_path / "shared.db")) as shared:
        id_a = scan(org_a, shared)
        seen_a = dlp_instances(shared, id_a)
        id_b = scan(org_b, shared)
        got = dlp_instances(shared, id_b)
    assert id_a != id_b
    clashing = {key for key in seen_a if key[1] in {file_id for _t, file_id in expected}}
    assert clashing, "the two orgs should reuse file ids, or this test proves nothing"
    assert got == expected


def test_a_verdict_is_found_only_by_the_integration_that_remembered_it(tmp_path: Path) -> None:
    file = FileRef(kind=AssetKind.GPT_FILE, file_id="file-E00000001", name="a.txt", container_id="g-1")
    verdict = FileScan(file=file, status="scanned", matched_profiles=("pii",), size_bytes=7, content_sha256="ab" * 32)
    with Store.open(str(tmp_path / "v.db")) as store:
        FileVerdicts(store, 1, "digest").remember(verdict)
        assert FileVerdicts(store, 1, "digest").known(file) == verdict
        assert FileVerdicts(store, 2, "digest").known(file) is None
        assert FileVerdicts(store, 1, "other digest").known(file) is None
        # A verdict stored before it was scoped could be any org's: nobody may use it.
        store.dlp_cache_put("file:gpt_file:file-E00000001:digest", {"status": "scanned", "matched_profiles": [],
                                                                     "matches": []})
        assert FileVerdicts(store, 3, "digest").known(file) is None
