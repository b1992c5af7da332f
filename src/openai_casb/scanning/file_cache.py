"""Verdicts remembered by file id, so a re-scan does not download a file it has already judged.

Remembered: files scanned in full, and files that can never be read (an expired upload, one over
the size limit). Not remembered: failures a later scan may get past (timeouts, crashes, network),
nor a file read in part (`partial`): what it skipped may be readable next scan, so no stored
verdict is partial and the flag is not stored (rows that hold it, always false, still load).

OpenAI file ids name immutable uploads (a changed knowledge file is a new upload with a new id),
so within one integration (file id, profile-set digest) identifies a verdict as well as the
content hash does, without the download. File ids are not unique across organizations (and
generated orgs reuse them), so a verdict is remembered for the integration that scanned the file
and found by no other. The content-hash cache (dlp.cache) still catches the same bytes under a
new id or in another integration: what it keeps depends on the bytes only.
Kept in the store's dlp_cache table; holds counts and masked samples only, never values.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from openai_casb.inventory.model import EntryMatch, FileRef, FileScan
from openai_casb.store import Store

# Keys of the first format (`file:{kind}:{id}:{digest}`) named no integration: migration 0009
# deletes them, and this prefix keeps them from ever matching a key made here.
KEY_PREFIX = "ifile:"


def _key(integration_id: int, file: FileRef, profile_set_digest: str) -> str:
    return f"{KEY_PREFIX}{integration_id}:{file.kind.value}:{file.file_id}:{profile_set_digest}"


class FileVerdicts:
    """The verdicts of one integration's files under one profile set."""

    def __init__(self, store: Store, integration_id: int, profile_set_digest: str) -> None:
        self._store = store
        self._integration_id = integration_id
        self._digest = profile_set_digest

    def known(self, file: FileRef) -> FileScan | None:
        stored = self._store.dlp_cache_get(_key(self._integration_id, file, self._digest))
        if stored is None:
            return None
        return FileScan(
            file=file,
            status=stored.get("status", "scanned"),
            reason=stored.get("reason"),
            matched_profiles=tuple(stored["matched_profiles"]),
            matches=tuple(
                EntryMatch(m["profile"], m["entry"], m["count"], tuple(m["masked_samples"]), tuple(m["value_hashes"]))
                for m in stored["matches"]
            ),
            size_bytes=stored.get("size_bytes"),
            content_sha256=stored.get("content_sha256"),
            notes=tuple(str(note) for note in stored.get("notes", ())),
        )

    def remember(self, scan: FileScan) -> None:
        if scan.partial:
            raise ValueError("a partly read file is not remembered by file id: what it skipped may be read next scan")
        verdict: dict[str, Any] = {
            "status": scan.status,
            "reason": scan.reason,
            "matched_profiles": list(scan.matched_profiles),
            "matches": [dataclasses.asdict(m) for m in scan.matches],
            "size_bytes": scan.size_bytes,
            "content_sha256": scan.content_sha256,
            "notes": list(scan.notes),
        }
        self._store.dlp_cache_put(_key(self._integration_id, scan.file, self._digest), verdict)
