"""Content-hash verdict cache: the same bytes, read the same way with the same profile set, are not
read again.

The key is the file's SHA-256, the engine's profile-set digest and, for content that may be text,
the text flavour its name picks (`extract.sniff.name_reading`: `.json` decodes escapes, `.txt`
does not), so changing any profile, entry or setting that affects matching invalidates every
entry at once, and the same bytes under a name that reads them otherwise are read again. Verdicts are plain
JSON-able dicts holding counts and masked samples only, never matched values.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Protocol


class VerdictCache(Protocol):
    """Where verdicts are kept; the store provides a database-backed one (`dlp_cache`)."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, verdict: dict[str, Any]) -> None: ...


def cache_key(content_sha256: str, profile_set_digest: str, reading: str = "") -> str:
    """`reading` is `name_reading` of the file: "" when the content alone decides how it is read.
    Keys of text carry it, so entries cached before it was part of the key never match them."""
    return f"{content_sha256}:{profile_set_digest}:{reading}" if reading else f"{content_sha256}:{profile_set_digest}"


class MemoryVerdictCache:
    """An in-process cache, bounded to `max_entries` (least recently used go first)."""

    def __init__(self, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._verdicts: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def get(self, key: str) -> dict[str, Any] | None:
        verdict = self._verdicts.get(key)
        if verdict is not None:
            self._verdicts.move_to_end(key)
            return dict(verdict)
        return None

    def put(self, key: str, verdict: dict[str, Any]) -> None:
        self._verdicts[key] = dict(verdict)
        self._verdicts.move_to_end(key)
        while len(self._verdicts) > self._max_entries:
            self._verdicts.popitem(last=False)

    def __len__(self) -> int:
        return len(self._verdicts)
