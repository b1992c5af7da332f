import json
from types import ModuleType

import pytest

from openai_casb.checks.findings import dlp_conversation_file, dlp_gpt_file, dlp_project_file
from openai_casb.inventory.model import AssetKind, EntryMatch, FileRef, FileScan
from openai_casb.policy import Policy

RAW_CARD = "4716-2810-3355-7292"
CASES = [
    (dlp_conversation_file, AssetKind.CONVERSATION_FILE, "conversation"),
    (dlp_gpt_file, AssetKind.GPT_FILE, "gpt"),
    (dlp_project_file, AssetKind.PROJECT_FILE, "chatgpt_project"),
]


def ref(kind: AssetKind, file_id: str = "file-1", container_id: str = "c-1") -> FileRef:
    return FileRef(
        kind=kind,
        file_id=file_id,
        name="cards.xlsx",
        container_id=container_id,
        container_name="Q3 planning",
        owner_user_id="user-1",
        owner_email="bob@example.com",
    )


def matched(file: FileRef) -> FileScan:
    return FileScan(
        file=file,
        status="scanned",
        matched_profiles=("Financial Information",),
        matches=(
            EntryMatch("Financial Information", "Credit card", 3, masked_samples=("****-****-****-1111",)),
            EntryMatch("Financial Information", "IBAN", 1, masked_samples=("**** 1234",)),
            EntryMatch("Credentials", "AWS key", 1, masked_samples=("****",)),  # below its match_count
        ),
        size_bytes=2048,
        content_sha256="ab" * 32,
    )


@pytest.mark.parametrize(("module", "kind", "container_kind"), CASES)
def test_file_with_profile_match(module: ModuleType, kind: AssetKind, container_kind: str) -> None:
    (detection,) = module.evaluate_files([matched(ref(kind))], Policy())
    assert detection.finding_type_id == module.METADATA.id
    assert detection.asset.kind is kind
    assert detection.asset.id == "file-1"
    assert detection.asset.email == "bob@example.com"
    evidence = detection.evidence
    assert evidence["matched_profiles"] == ["Financial Information"]
    (profile,) = evidence["profiles"]
    assert profile["match_count"] == 4
    assert [e["entry"] for e in profile["entries"]] == ["Credit card", "IBAN"]
    assert profile["entries"][0]["masked_samples"] == ["****-****-****-1111"]
    assert evidence["total_matches"] == 4
    assert evidence["container"] == {
        "kind": container_kind,
        "id": "c-1",
        "name": "Q3 planning",
        "owner_user_id": "user-1",
        "owner_email": "bob@example.com",
    }
    assert RAW_CARD not in json.dumps(evidence)


@pytest.mark.parametrize(("module", "kind", "container_kind"), CASES)
def test_only_files_of_its_kind(module: ModuleType, kind: AssetKind, container_kind: str) -> None:
    others = [matched(ref(k, file_id=f"f-{k}")) for _, k, _ in CASES if k is not kind]
    assert list(module.evaluate_files(others, Policy())) == []


@pytest.mark.parametrize(("module", "kind", "container_kind"), CASES)
def test_unscanned_and_clean_files_raise_nothing(module: ModuleType, kind: AssetKind, container_kind: str) -> None:
    scans = [
        FileScan(file=ref(kind, "f-expired"), status="not_scanned", reason="expired"),
        FileScan(file=ref(kind, "f-clean"), status="scanned"),
    ]
    assert list(module.evaluate_files(scans, Policy())) == []


def test_same_file_in_two_gpts_is_one_instance_listing_both() -> None:
    scans = [matched(ref(AssetKind.GPT_FILE, container_id="g-1")), matched(ref(AssetKind.GPT_FILE, container_id="g-2"))]
    (detection,) = dlp_gpt_file.evaluate_files(iter(scans), Policy())
    assert [c["id"] for c in detection.evidence["containers"]] == ["g-1", "g-2"]
