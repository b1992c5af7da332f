"""Reading ZIP archives without trusting them: zip bombs, entry-count bombs and deep nesting.

Sizes are checked twice: the sizes an entry declares (cheap, before reading) and the bytes the
decompressor actually produces (while streaming), because a hostile archive can lie about the
former. Ratio checks start after `RATIO_GRACE_BYTES` of output so that small, very repetitive
files (a CSV of zeros) are not mistaken for bombs.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from functools import partial

from openai_casb.dlp.extract.base import Budget, LimitExceeded, NotScanned, TextChunks

RATIO_GRACE_BYTES = 1024 * 1024
_BLOCK = 64 * 1024

# Extracts one archive entry: (entry bytes, entry name, nesting depth, budget) -> text chunks.
EntryExtractor = Callable[[bytes, str, int, Budget], TextChunks]


def open_zip(data: bytes, what: str = "ZIP") -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise NotScanned(f"malformed {what}: not a readable ZIP container") from None


def check_entry_count(archive: zipfile.ZipFile, budget: Budget) -> list[zipfile.ZipInfo]:
    entries = [info for info in archive.infolist() if not info.is_dir()]
    if budget.archive_entries + len(entries) > budget.limits.max_archive_entries:
        raise LimitExceeded(f"over the archive entry limit ({budget.limits.max_archive_entries} entries)")
    return entries


def read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> bytes:
    """The entry's bytes, stopping as soon as a size or ratio limit is crossed."""
    limits = budget.limits
    if info.flag_bits & 0x1:
        raise NotScanned("encrypted")
    if info.file_size > limits.max_uncompressed_bytes:
        raise LimitExceeded(f"archive entry over the uncompressed size limit ({limits.max_uncompressed_bytes} bytes)")
    compressed = max(info.compress_size, 1)
    if info.file_size > RATIO_GRACE_BYTES and info.file_size / compressed > limits.max_compression_ratio:
        raise LimitExceeded(f"archive entry over the compression ratio limit ({limits.max_compression_ratio:g}:1)")
    budget.add_entry()
    parts: list[bytes] = []
    produced = 0
    try:
        with archive.open(info) as stream:
            while block := stream.read(_BLOCK):
                produced += len(block)
                budget.add_uncompressed(len(block))
                if produced > limits.max_uncompressed_bytes:
                    raise LimitExceeded(
                        f"archive entry over the uncompressed size limit ({limits.max_uncompressed_bytes} bytes)"
                    )
                if produced > RATIO_GRACE_BYTES and produced / compressed > limits.max_compression_ratio:
                    raise LimitExceeded(
                        f"archive entry over the compression ratio limit ({limits.max_compression_ratio:g}:1)"
                    )
                parts.append(block)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as error:
        # zlib errors, bad CRCs, unsupported compression methods: the entry is damaged, not hostile.
        raise NotScanned(f"malformed archive entry ({type(error).__name__})") from None
    return b"".join(parts)


@dataclass(slots=True)
class EntriesRead:
    """What `entry_texts` made of the entries it was given."""

    scanned: int = 0
    skipped: list[NotScanned] = field(default_factory=list)


def entry_texts(
    entries: Iterable[tuple[str, Callable[[], bytes]]],
    depth: int,
    budget: Budget,
    extract_entry: EntryExtractor,
    what: str,
    *,
    empty_is_read: bool,
) -> Generator[str, None, EntriesRead]:
    """The text of each (name, read) entry one nesting level deeper, preceded by its name shown
    printable; what it cannot scan is noted (`{what} {name} not scanned: ...`) and skipped, a limit
    crossed ends the whole file. The bytes come from `read`, which applies the archive limits (size,
    ratio, total): `read_entry`. An empty entry is read when `empty_is_read`, else handed on like any
    other. Returns how many entries were read and why the others were not."""
    outcome = EntriesRead()
    for raw_name, read in entries:
        name = _safe_name(raw_name)
        try:
            content = read()
            if not content and empty_is_read:
                outcome.scanned += 1  # an empty entry is read: there is nothing in it
                continue
            first = True
            for chunk in extract_entry(content, name, depth + 1, budget):
                if first:
                    yield f"\n[{name}]\n"
                    first = False
                yield chunk
            outcome.scanned += 1
        except LimitExceeded:
            raise
        except NotScanned as skipped:
            outcome.skipped.append(skipped)
            # The name may hold a value: the scanner masks notes before showing them.
            budget.note(f"{what} {name} not scanned: {skipped.reason}", cacheable=skipped.cacheable)
    return outcome


def extract_zip(data: bytes, depth: int, budget: Budget, extract_entry: EntryExtractor) -> TextChunks:
    """Every entry's text, each preceded by its path so that a match keeps its context.

    Entries that cannot be scanned (encrypted, unsupported) are skipped and noted, with whether
    another attempt could read them (OCR unavailable, a timeout: then the file's verdict is not
    cached); when no entry could be read the archive is not scanned. Crossing a limit anywhere ends
    the whole file, since the archive is then treated as hostile. A note quotes the entry's name,
    which may hold a value: whoever shows notes must mask them first (the scanner runs each through
    `DlpEngine.redact`).
    """
    if depth > budget.limits.max_nesting:
        raise LimitExceeded(f"archives nested deeper than the limit ({budget.limits.max_nesting} levels)")
    with open_zip(data) as archive:
        entries = check_entry_count(archive, budget)
        read = yield from entry_texts(
            ((info.filename, partial(read_entry, archive, info, budget)) for info in entries),
            depth,
            budget,
            extract_entry,
            "entry",
            empty_is_read=True,
        )
        if entries and not read.scanned:
            if all(info.flag_bits & 0x1 for info in entries):
                raise NotScanned("encrypted")
            # The reason quotes no entry name (the notes do, each masked when shown).
            raise NotScanned(
                f"no archive entry could be read ({read.skipped[0].reason})",
                cacheable=all(outcome.cacheable for outcome in read.skipped),
            )


def _safe_name(name: str) -> str:
    """Entry names are shown to people: keep them printable. They are not shortened here: a note
    quoting one is masked by the scanner (`FileScanner._shown`), then shortened, so that a cut
    cannot split a value the engine would otherwise have found and masked."""
    return "".join(ch if ch.isprintable() else "?" for ch in name)
