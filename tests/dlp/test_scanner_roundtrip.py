"""Every supported format round-trips planted values: the real engine finds them through the scanner."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from files.builders import docx_bytes, pdf_bytes, pptx_bytes, xlsx_bytes, zip_bytes

from openai_casb.dlp.cache import MemoryVerdictCache, cache_key
from openai_casb.dlp.extract import ExtractionLimits
from openai_casb.dlp.scanner import MAX_NOTE_CHARS, FileScanner, LocalFileResult

# Valid by checksum and with their keywords close by, so every confidence level counts them.
PLANTED_LINES = [
    "Customer credit card number: 4716 2810 3355 7292 (visa)",
    "Employee SSN (social security number): 536-22-1947",
    "Wire to IBAN GB82 WEST 1234 5698 7654 32 today",
    "AWS access key id: AKIA2OGYBAH6QJ7ZXK5C",
]
FILLER = "Quarterly numbers look fine and nothing else here is sensitive."


def _engine() -> object:
    from openai_casb.dlp.engine import DlpEngine
    from openai_casb.dlp.settings import DlpSettings

    return DlpEngine.from_settings(DlpSettings())


def _expected() -> dict[tuple[str, str], int]:
    from openai_casb.dlp.engine import DlpEngine

    engine = _engine()
    assert isinstance(engine, DlpEngine)
    result = engine.match("\n".join(PLANTED_LINES))
    return {(m.profile, m.entry): m.count for m in result.entry_matches}


BUILDERS: dict[str, Callable[[list[str]], bytes]] = {
    "notes.txt": lambda lines: "\n".join(lines).encode(),
    "utf16.txt": lambda lines: "\n".join(lines).encode("utf-16"),
    "table.csv": lambda lines: ("field,value\n" + "\n".join(f'x,"{line}"' for line in lines)).encode(),
    "data.json": lambda lines: json.dumps({"records": [{"text": line} for line in lines]}).encode(),
    "doc.docx": lambda lines: docx_bytes([FILLER, *lines[:2]], header=lines[2], table=[[lines[3], FILLER]]),
    "book.xlsx": lambda lines: xlsx_bytes({"One": [[FILLER], [lines[0]]], "Two": [[line] for line in lines[1:]]}),
    "deck.pptx": lambda lines: pptx_bytes([FILLER, *lines[:2]], ["", "", lines[2] + "\n" + lines[3]]),
    "report.pdf": lambda lines: pdf_bytes([[FILLER, lines[0]], lines[1:]]),
    "bundle.zip": lambda lines: zip_bytes(
        {"a.txt": "\n".join(lines[:2]).encode(), "inner.zip": zip_bytes({"b.txt": "\n".join(lines[2:]).encode()})}
    ),
}


@pytest.fixture(scope="module")
def expected() -> dict[tuple[str, str], int]:
    found = _expected()
    assert len(found) >= 3, found  # the planted values are real detections for the default profiles
    return found


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LocalFileResult]:
    folder = tmp_path_factory.mktemp("formats")
    for name, build in BUILDERS.items():
        (folder / name).write_bytes(build(PLANTED_LINES))
    with FileScanner(_engine(), ExtractionLimits(timeout_seconds=30), None, 2) as scanner:  # type: ignore[arg-type]
        return {r.path.name: r for r in scanner.scan_tree([folder])}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_format_round_trips_planted_values(
    name: str, results: dict[str, LocalFileResult], expected: dict[tuple[str, str], int]
) -> None:
    result = results[name]
    assert result.status == "scanned", result.reason
    found = {(m.profile, m.entry): m.count for m in result.matches}
    assert found == expected
    assert result.matched_profiles
    shown = repr(result)
    for secret in ("4716 2810 3355 7292", "536-22-1947", "AKIA2OGYBAH6QJ7ZXK5C"):
        assert secret not in shown


def test_wrongly_named_file_round_trips(tmp_path: Path, expected: dict[tuple[str, str], int]) -> None:
    path = tmp_path / "slides.pdf"
    path.write_bytes(BUILDERS["doc.docx"](PLANTED_LINES))
    with FileScanner(_engine(), ExtractionLimits(timeout_seconds=30), None, 1) as scanner:  # type: ignore[arg-type]
        result = scanner.scan_local(path)
    assert {(m.profile, m.entry): m.count for m in result.matches} == expected


# Archive entry names that hold values: the notes that name skipped entries must mask them.
LEAKY_NAMES = {
    "AKIAEL35CRPBUJFUPCR4.txt": "AKIAEL35CRPBUJFUPCR4",
    "card 4716 2810 3355 7292.bin": "4716 2810 3355 7292",
    # Long enough that shortening the note would cut the key in half if it came before masking.
    "x" * (MAX_NOTE_CHARS - 30) + " AKIA2OGYBAH6QJ7ZXK5C.txt": "AKIA2OGYBAH6QJ7ZXK5C",
}


def _encrypted(data: bytes) -> bytes:
    """Every entry flagged as encrypted, as `zip -P` would leave it."""
    flagged = bytearray(data)
    for header, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = flagged.find(header)
        while at != -1:
            flagged[at + offset] |= 1
            at = flagged.find(header, at + 4)
    return bytes(flagged)


@pytest.mark.parametrize("encrypted", [True, False], ids=["encrypted", "unsupported-entries"])
def test_entry_names_in_notes_are_masked_when_printed_and_cached(tmp_path: Path, encrypted: bool) -> None:
    # Random bytes are not text: every entry is skipped ("unsupported format") and noted.
    archive = zip_bytes({name: os.urandom(512) for name in LEAKY_NAMES})
    path = tmp_path / "names.zip"
    path.write_bytes(_encrypted(archive) if encrypted else archive)
    cache = MemoryVerdictCache()
    engine = _engine()
    with FileScanner(engine, ExtractionLimits(timeout_seconds=30), cache, 1) as scanner:  # type: ignore[arg-type]
        result = scanner.scan_local(path)
    # No entry could be read: the archive is not scanned (its notes say which entries and why).
    assert result.status == "not_scanned"
    unsupported = "no archive entry could be read (unsupported format: binary content)"
    assert result.reason == ("encrypted" if encrypted else unsupported)
    assert len(result.notes) == len(LEAKY_NAMES)
    assert all(len(note) <= MAX_NOTE_CHARS for note in result.notes)
    reason = "encrypted" if encrypted else "unsupported format: binary content"
    assert result.notes[:2] == (
        f"entry AKIA********\u2026.txt not scanned: {reason}",
        f"entry card **** **** **** 7292.bin not scanned: {reason}",
    )
    assert result.notes[2].startswith("entry xxx")
    assert "AKIA****" in result.notes[2]
    assert result.content_sha256 is not None
    stored = cache.get(cache_key(result.content_sha256, engine.profile_set_digest))  # type: ignore[attr-defined]
    assert stored is not None
    for shown in (repr(result), json.dumps(stored)):
        for value in LEAKY_NAMES.values():
            assert value not in shown
