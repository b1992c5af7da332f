"""What every extractor shares: the typed "not scanned" outcome and the per-file budget.

An extractor is a generator of text chunks. It either yields text or raises `NotScanned` with a
reason a person can read; anything else escaping an extractor is a bug that the caller turns
into a `NotScanned` too, so one bad file never stops a scan.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from openai_casb.dlp.extract.limits import ExtractionLimits


class NotScanned(Exception):
    """The file (or archive entry) cannot be scanned; `reason` says why, without file content."""

    def __init__(self, reason: str, *, cacheable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        # False when another attempt could succeed (a limit, a missing tool): never cache it.
        self.cacheable = cacheable


class LimitExceeded(NotScanned):
    """A configured limit was crossed. Not cached: the verdict changes when the limit does."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, cacheable=False)


@dataclass(slots=True)
class Budget:
    """What one top-level file has consumed so far, shared by every nested archive entry."""

    limits: ExtractionLimits
    uncompressed_bytes: int = 0
    archive_entries: int = 0
    notes: list[str] = field(default_factory=list)
    # Some content was not read (a skipped entry or page, cut text): the verdict covers part of it.
    partial: bool = False
    # False once any part had an outcome another attempt could change (OCR unavailable, a timeout,
    # cut text): then the whole file's verdict is not cached, even when it is `scanned`.
    cacheable: bool = True

    def add_uncompressed(self, count: int) -> None:
        self.uncompressed_bytes += count
        if self.uncompressed_bytes > self.limits.max_total_uncompressed_bytes:
            raise LimitExceeded(
                f"over the total uncompressed size limit ({self.limits.max_total_uncompressed_bytes} bytes)"
            )

    def add_entry(self) -> None:
        self.archive_entries += 1
        if self.archive_entries > self.limits.max_archive_entries:
            raise LimitExceeded(f"over the archive entry limit ({self.limits.max_archive_entries} entries)")

    def note(self, text: str, *, partial: bool = True, cacheable: bool = True) -> None:
        """Record what was not read (`partial`, the default) or how something was read; with
        `cacheable=False` when another attempt could read it."""
        self.partial = self.partial or partial
        self.cacheable = self.cacheable and cacheable
        # Bounded so that a hostile archive cannot grow the notes without limit; the flags are not.
        if len(self.notes) < 50:
            self.notes.append(text)


TextChunks = Iterator[str]


def chunk_text(text: str, size: int) -> TextChunks:
    """Split text into chunks of about `size` characters, preferring line ends as cut points."""
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            newline = text.rfind("\n", start + size // 2, end)
            if newline != -1:
                end = newline + 1
        yield text[start:end]
        start = end
