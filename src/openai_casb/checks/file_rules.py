"""Rules over DLP verdicts: one instance per file whose content matched at least one profile.

Files that were not scanned (expired, unsupported, encrypted, over a limit) raise nothing here;
DLP records them as unscanned. Evidence carries counts and DLP's masked samples, never values;
file names and container titles arrive already masked by the scan's DLP engine (scanning.names),
so they are copied as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from openai_casb.checks.common import WORKSPACE_ADMIN_URL, WORKSPACE_GPTS_URL, iso
from openai_casb.detections import AssetRef, Detection
from openai_casb.inventory.model import AssetKind, FileRef, FileScan

_CONTAINER_KIND = {
    AssetKind.CONVERSATION_FILE: "conversation",
    AssetKind.GPT_FILE: "gpt",
    AssetKind.PROJECT_FILE: "chatgpt_project",
}
_LINKS = {
    AssetKind.CONVERSATION_FILE: WORKSPACE_ADMIN_URL,
    AssetKind.GPT_FILE: WORKSPACE_GPTS_URL,
    AssetKind.PROJECT_FILE: WORKSPACE_ADMIN_URL,
}


def _container(file: FileRef) -> dict[str, Any]:
    return {
        "kind": _CONTAINER_KIND[file.kind],
        "id": file.container_id,
        "name": file.container_name,
        "owner_user_id": file.owner_user_id,
        "owner_email": file.owner_email,
    }


def _profiles(scan: FileScan) -> list[dict[str, Any]]:
    profiles = []
    for profile in scan.matched_profiles:
        matches = [match for match in scan.matches if match.profile == profile]
        entries = [
            {"entry": match.entry, "count": match.count, "masked_samples": list(match.masked_samples)}
            for match in matches
        ]
        profiles.append({"profile": profile, "match_count": sum(m.count for m in matches), "entries": entries})
    return profiles


def files_with_matches(file_scans: Iterable[FileScan], kind: AssetKind, finding_type_id: str) -> Iterator[Detection]:
    """One detection per file id of this kind; a file seen in several containers lists them all."""
    first_scan: dict[str, FileScan] = {}
    containers: dict[str, list[dict[str, Any]]] = {}
    for scan in file_scans:
        if scan.file.kind != kind or scan.status != "scanned" or not scan.matched_profiles:
            continue
        file_id = scan.file.file_id
        first_scan.setdefault(file_id, scan)
        context = _container(scan.file)
        if context not in containers.setdefault(file_id, []):
            containers[file_id].append(context)
    for file_id, scan in first_scan.items():
        file = scan.file
        profiles = _profiles(scan)
        where = _CONTAINER_KIND[kind].replace("_", " ")
        evidence = {
            "summary": (
                f"File {file.name or file_id!r} in {where} {file.container_name or file.container_id!r} matched "
                f"DLP profile(s): {', '.join(scan.matched_profiles)}."
            ),
            "rule": "enabled entries of a DLP profile matched more than its match_count times",
            "matched_profiles": list(scan.matched_profiles),
            "profiles": profiles,
            "total_matches": sum(m.count for m in scan.matches if m.profile in scan.matched_profiles),
            # Some content was not read (skipped entries, cut text): more values may be in the file.
            "partial": scan.partial,
            "notes": list(scan.notes),
            "container": containers[file_id][0],
            "containers": containers[file_id],
            "file": {
                "id": file_id,
                "name": file.name,
                "created_at": iso(file.created_at),
                "size_bytes": scan.size_bytes,
                "content_sha256": scan.content_sha256,
            },
        }
        asset = AssetRef(
            kind=kind,
            id=file_id,
            name=file.name,
            email=file.owner_email,
            link=_LINKS[kind],
            metadata={"container_id": file.container_id, "container_name": file.container_name},
        )
        yield Detection(finding_type_id=finding_type_id, asset=asset, evidence=evidence)
