"""Verdicts remembered by file id, so a re-scan does not download a file it has already judged.

Remembered: files scanned, and files that can never be read (an expired upload, one over the
size limit). Not remembered: failures a later scan may get past (timeouts, crashes, network).

OpenAI file ids name immutable uploads (a changed knowledge file is a new upload with a new id),
so (file id, profile-set digest) identifies a verdict as well as the content hash does, without
the download. The content-hash cache (dlp.cache) still catches the same bytes under a new id.
Kept in the store's dlp_cache table; holds counts and masked samples only, never values.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from openai_casb.inventory.model import EntryMatch, FileRef, FileScan
from openai_casb.store import Store


def _key(file: FileRef, profile_set_digest: str) -> str:
    return f"file:{file.kind.value}:{file.file_id}:{profile_set_digest}"


class FileVerdicts:
    def __init__(self, store: Store, profile_set_digest: str) -> None:
        self._store = store
        self._digest = profile_set_digest

    def known(self, file: FileRef) -> FileScan | None:
        stored = self._store.dlp_cache_get(_key(file, self._digest))
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
        )

    def remember(self, scan: FileScan) -> None:
        verdict: dict[str, Any] = {
            "status": scan.status,
            "reason": scan.reason,
            "matched_profiles": list(scan.matched_profiles),
            "matches": [dataclasses.asdict(m) for m in scan.matches],
            "size_bytes": scan.size_bytes,
            "content_sha256": scan.content_sha256,
        }
        self._store.dlp_cache_put(_key(scan.file, self._digest), verdict)
