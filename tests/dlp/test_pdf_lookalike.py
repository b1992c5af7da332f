"""A text file mentioning %PDF- and %%EOF is read as text; a file that starts as a PDF stays one."""

from __future__ import annotations

import pytest
from files.builders import pdf_bytes

from openai_casb.dlp.extract import Budget, ExtractionLimits, NotScanned, extract_file

LIMITS = ExtractionLimits()
NOTES = b"notes about %PDF-1.7 handling\naws_key AKIAIOSFODNN7EXAMPLE card 4716 2810 3355 7292\nend of file %%EOF\n"


def read(data: bytes, name: str) -> tuple[str, list[str]]:
    budget = Budget(LIMITS)
    text = "".join(extract_file(data, name, LIMITS, budget))
    return text, budget.notes


def test_text_with_a_pdf_header_after_other_bytes_is_read_as_text() -> None:
    text, notes = read(NOTES, "notes.txt")
    assert "AKIAIOSFODNN7EXAMPLE" in text
    assert "4716 2810 3355 7292" in text
    assert notes == ["malformed PDF (PdfReadError); read as text"]


def test_the_fallback_reads_by_the_text_flavour_of_the_name() -> None:
    data = b'{"note": "%PDF-1.7", "card": "\\u0034716 2810 3355 7292", "end": "%%EOF"}'
    assert "4716 2810 3355 7292" in read(data, "x.json")[0]
    assert "\\u0034716" in read(data, "x.txt")[0]


def test_a_real_pdf_after_leading_junk_is_still_read_as_a_pdf() -> None:
    text, notes = read(b"junk before the header\n" + pdf_bytes([["inside the pdf"]]), "x.pdf")
    assert "inside the pdf" in text
    assert notes == []


def test_a_broken_file_starting_with_the_pdf_header_stays_not_scanned() -> None:
    with pytest.raises(NotScanned, match="malformed PDF"):
        read(b"%PDF-1.7\n" + NOTES, "notes.txt")


def test_a_broken_pdf_candidate_with_binary_content_stays_not_scanned() -> None:
    # Text at its start, binary further on (a compressed stream): not text, so not read as text.
    data = b"junk %PDF-1.7\n" + b"a" * 9000 + bytes(range(256)) * 8 + b"\n%%EOF\n"
    with pytest.raises(NotScanned, match="malformed PDF"):
        read(data, "x.txt")
