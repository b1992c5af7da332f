"""What was not read stays visible: skipped archive entries and cut text mark a verdict partial and
travel with workspace verdicts (FileScan), an archive with no readable entry is not scanned, and a
part skipped for a reason another attempt could get past keeps the whole file out of the cache."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from files.builders import zip_bytes
from files.fake_engine import FakeEngine

from openai_casb.dlp.cache import MemoryVerdictCache
from openai_casb.dlp.extract import Budget, ExtractionLimits, NotScanned, extract_file
from openai_casb.dlp.extract.image import TESSERACT_ENV
from openai_casb.dlp.scanner import FileScanner, local_file_ref

LIMITS = ExtractionLimits(timeout_seconds=10, memory_mb=256)
PLANTED = b"ssn 123-45-6789 and PLANTED-ABCDEFGH\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20  # ~5 KB: inside the default OCR window


def _tesseract(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "tesseract"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _unsupported_method(archive: bytes) -> bytes:
    """Every entry's compression method set to 9 (Deflate64), which zipfile cannot decompress."""
    data = bytearray(archive)
    for header, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = data.find(header)
        while at != -1:
            data[at + offset] = 9
            at = data.find(header, at + 4)
    return bytes(data)


def test_a_zip_with_an_image_is_not_cached_while_ocr_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "shots.zip"
    path.write_bytes(zip_bytes({"shot.png": PNG, "readme.txt": b"screenshots\n"}))
    cache = MemoryVerdictCache()
    monkeypatch.setenv(TESSERACT_ENV, str(tmp_path / "absent"))
    with FileScanner(FakeEngine(), LIMITS, cache, 1) as scanner:
        first = scanner.scan_local(path)
    assert first.status == "scanned"
    assert first.notes == ("entry shot.png not scanned: OCR unavailable: tesseract not installed",)
    assert len(cache) == 0
    assert first.partial

    monkeypatch.setenv(TESSERACT_ENV, str(_tesseract(tmp_path, "echo 'PLANTED-ABCDEFGH'\n")))
    with FileScanner(FakeEngine(), LIMITS, cache, 1) as scanner:
        second = scanner.scan_local(path)
    assert not second.cached
    assert second.matched_profiles == ("test",)
    assert not second.partial
    assert second.notes == ()
    assert len(cache) == 1  # read in full now: cached


def test_a_skipped_entry_that_would_be_skipped_again_keeps_the_verdict_cacheable(tmp_path: Path) -> None:
    path = tmp_path / "mixed.zip"
    path.write_bytes(zip_bytes({"blob.bin": bytes(range(256)) * 4, "notes.txt": PLANTED}))
    cache = MemoryVerdictCache()
    with FileScanner(FakeEngine(), LIMITS, cache, 1) as scanner:
        result = scanner.scan_local(path)
        again = scanner.scan_local(path)
    assert result.status == "scanned"
    assert result.partial
    assert result.notes == ("entry blob.bin not scanned: unsupported format: binary content",)
    assert again.cached
    assert again.partial
    assert again.notes == result.notes


def test_the_budget_carries_what_must_not_be_cached_out_of_an_archive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TESSERACT_ENV, "/nonexistent/tesseract")
    budget = Budget(LIMITS)
    text = "".join(extract_file(zip_bytes({"a.png": PNG, "b.txt": PLANTED}), "a.zip", LIMITS, budget))
    assert "PLANTED-ABCDEFGH" in text
    assert budget.partial
    assert not budget.cacheable


def test_a_workspace_verdict_keeps_the_notes(tmp_path: Path) -> None:
    path = tmp_path / "mixed.zip"
    path.write_bytes(zip_bytes({"blob.bin": bytes(range(256)) * 4, "notes.txt": PLANTED}))
    with FileScanner(FakeEngine(), LIMITS, None, 1) as scanner:
        scan = scanner.scan_path(path, local_file_ref(path))
    assert scan.status == "scanned"
    assert scan.partial
    assert scan.notes == ("entry blob.bin not scanned: unsupported format: binary content",)
    assert scan.matched_profiles == ("test",)


def test_a_zip_whose_only_entry_cannot_be_decompressed_is_not_scanned(tmp_path: Path) -> None:
    path = tmp_path / "deflate64.zip"
    path.write_bytes(_unsupported_method(zip_bytes({"cards.csv": PLANTED})))
    with FileScanner(FakeEngine(), LIMITS, None, 1) as scanner:
        scan = scanner.scan_path(path, local_file_ref(path))
        local = scanner.scan_local(path)
    assert scan.status == local.status == "not_scanned"
    assert scan.reason == "no archive entry could be read (malformed archive entry (NotImplementedError))"
    assert scan.notes == ("entry cards.csv not scanned: malformed archive entry (NotImplementedError)",)


def test_a_zip_of_empty_entries_is_scanned() -> None:
    budget = Budget(LIMITS)
    assert "".join(extract_file(zip_bytes({"a.txt": b"", "b.txt": b""}), "a.zip", LIMITS, budget)) == ""
    assert budget.notes == []
    assert not budget.partial


def test_no_readable_entry_is_not_cached_when_another_attempt_could_read_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(TESSERACT_ENV, "/nonexistent/tesseract")
    with pytest.raises(NotScanned, match="no archive entry could be read") as outcome:
        list(extract_file(zip_bytes({"a.png": PNG}), "a.zip", LIMITS))
    assert not outcome.value.cacheable


def test_cut_text_is_partial_in_a_workspace_verdict(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    path.write_bytes(zip_bytes({"aa_filler.txt": b"filler line\n" * 1000, "cards.csv": PLANTED}))
    limits = LIMITS.model_copy(update={"max_text_chars": 4_000})
    cache = MemoryVerdictCache()
    with FileScanner(FakeEngine(), limits, cache, 1) as scanner:
        scan = scanner.scan_path(path, local_file_ref(path))
    assert scan.status == "scanned"
    assert scan.matched_profiles == ()
    assert scan.partial
    assert scan.notes == ("text truncated at 4000 characters",)
    assert len(cache) == 0
