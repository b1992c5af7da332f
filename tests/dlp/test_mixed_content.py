"""Content that is more than one thing is read as each: text with a PDF built into it, a ZIP
appended to text (or to a binary), a container under a text name."""

from __future__ import annotations

from pathlib import Path

import pytest
from files.builders import pdf_bytes, zip_bytes

from openai_casb.dlp.engine import DlpEngine
from openai_casb.dlp.extract import Budget, ExtractionLimits, NotScanned, extract_file
from openai_casb.dlp.scanner import FileScanner, local_file_ref
from openai_casb.dlp.settings import DlpSettings

LIMITS = ExtractionLimits(timeout_seconds=30, memory_mb=512)
CARD = "4716 2810 3355 7292"
KEY = "AKIAZ7Q4M2XK5P3R6T2W"
ROW = f"alice,{CARD},{KEY}\n".encode()


def read(data: bytes, name: str, limits: ExtractionLimits = LIMITS) -> tuple[str, Budget]:
    budget = Budget(limits)
    return "".join(extract_file(data, name, limits, budget)), budget


def csv_with_a_pdf_built_in(rows: int) -> bytes:
    """`name,card,key`, a PDF header, the rows, then a valid PDF (whose one page says `cover`)."""
    return b"name,card,key\n%PDF-1.4\n" + ROW * rows + pdf_bytes([["cover"]])


def test_a_csv_with_a_pdf_built_in_is_read_as_the_pdf_and_as_text() -> None:
    text, budget = read(csv_with_a_pdf_built_in(200), "customers.csv")
    assert "cover" in text  # the PDF reading still happens
    assert text.count(CARD) == text.count(KEY) == 200
    assert budget.notes == []
    assert not budget.partial


def test_the_scan_of_a_csv_with_a_pdf_built_in_finds_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes(csv_with_a_pdf_built_in(2_000))
    engine = DlpEngine.from_settings(DlpSettings.model_validate({"salt": "mixed-content-salt"}))
    with FileScanner(engine, LIMITS, None, 1) as scanner:
        scan = scanner.scan_path(path, local_file_ref(path))
    assert scan.status == "scanned"
    assert "Financial Information" in scan.matched_profiles
    assert "Credentials and Secrets" in scan.matched_profiles


def test_both_readings_share_the_text_limit() -> None:
    limits = LIMITS.model_copy(update={"max_text_chars": 5_000})
    text, budget = read(csv_with_a_pdf_built_in(2_000), "customers.csv", limits)
    assert len(text) == 5_000
    assert budget.notes == ["text truncated at 5000 characters"]
    assert budget.partial
    assert not budget.cacheable


def test_a_pdf_at_the_first_byte_under_a_text_name_is_read_as_text_too() -> None:
    pdf = pdf_bytes([["cover"]])
    # Rows between the header and the objects: a PDF reader skips them, a text reader does not.
    hidden = pdf.replace(b"%PDF-1.4\n", b"%PDF-1.4\n" + ROW * 3, 1)
    text, _ = read(hidden, "export.csv")
    assert "cover" in text
    assert text.count(KEY) == 3
    # Under a PDF name the content alone decides: a PDF, read as one.
    text, _ = read(hidden, "export.pdf")
    assert "cover" in text
    assert KEY not in text


def test_a_broken_file_starting_with_the_pdf_header_stays_not_scanned_under_a_text_name() -> None:
    with pytest.raises(NotScanned, match="malformed PDF"):
        read(b"%PDF-1.7\n" + ROW * 3, "export.csv")


def test_text_followed_by_a_zip_is_read_as_text_and_as_the_zip() -> None:
    readme = b"readme text line\n" * 600  # 10 KB of text first
    archive = zip_bytes({"secret.txt": f"card {CARD} key {KEY}\n".encode()})
    data = readme + archive
    from openai_casb.dlp.extract.sniff import has_trailing_zip

    assert has_trailing_zip(data)
    text, budget = read(data, "textthenzip.zip")
    assert text.startswith("readme text line\n")
    assert "[secret.txt]" in text
    # The ZIP's bytes are not read as text too: a stored entry is not counted twice.
    assert text.count(CARD) == text.count(KEY) == 1
    assert budget.archive_entries == 1


def test_a_stored_zip_after_text_is_read_once() -> None:
    import zipfile

    archive = zip_bytes({"secret.txt": f"key {KEY}\n".encode()}, compression=zipfile.ZIP_STORED)
    text, _ = read(b"notes\n" * 100 + archive, "notes.txt")
    assert text.count(KEY) == 1


def test_binary_followed_by_a_zip_reads_the_zip() -> None:
    stub = b"MZ\x90\x00" + bytes(range(256)) * 16  # an executable stub, as a self-extracting archive has
    text, _ = read(stub + zip_bytes({"cards.csv": ROW}), "setup.exe")
    assert KEY in text


def test_a_zip_appended_to_text_is_under_the_archive_limits() -> None:
    data = b"readme\n" * 100 + zip_bytes({f"{i}.txt": ROW for i in range(5)})
    with pytest.raises(NotScanned, match="archive entry limit"):
        read(data, "x.txt", LIMITS.model_copy(update={"max_archive_entries": 3}))


def test_text_that_only_mentions_the_zip_end_record_is_read_as_text() -> None:
    data = b"notes on PK\x05\x06 records\n" + ROW
    text, budget = read(data, "notes.txt")
    assert KEY in text
    assert budget.notes == []
