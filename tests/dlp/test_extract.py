"""Extractors in-process: every format's text comes out, encodings and sniffing, random bytes."""

from __future__ import annotations

import json
import zipfile

import pytest
from files.builders import docx_bytes, pdf_bytes, pptx_bytes, xlsx_bytes, zip_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openai_casb.dlp.extract import ExtractionLimits, Kind, NotScanned, detect_kind, extract_file

LIMITS = ExtractionLimits()


def text_of(data: bytes, name: str | None = None, limits: ExtractionLimits = LIMITS) -> str:
    return "".join(extract_file(data, name, limits))


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        ("naïve 123-45-6789".encode(), "naïve 123-45-6789"),
        ("\ufeffnaïve 123-45-6789".encode(), "naïve 123-45-6789"),
        ("naïve 123-45-6789".encode("utf-16"), "naïve 123-45-6789"),  # with BOM
        ("naïve 123-45-6789".encode("utf-16-le"), "naïve 123-45-6789"),  # no BOM
        ("naïve 123-45-6789".encode("utf-16-be"), "naïve 123-45-6789"),
        ("naïve 123-45-6789".encode("latin-1"), "naïve 123-45-6789"),
    ],
)
def test_text_encodings_are_detected(encoded: bytes, expected: str) -> None:
    assert text_of(encoded, "notes.txt") == expected


def test_csv_and_markdown_are_text() -> None:
    assert "a@b.co" in text_of(b"name,email\nx,a@b.co\n", "x.csv")
    assert "# Title" in text_of(b"# Title\n\nbody", "readme.md")


def test_json_values_are_unescaped() -> None:
    data = json.dumps({"contact": "a\u0040example.com", "nested": [{"ssn": "123-45-6789"}], "n": 5}).encode()
    data = data.replace(b"@", b"\\u0040")
    text = text_of(data, "x.json")
    assert "a@example.com" in text
    assert "123-45-6789" in text
    assert "ssn" in text


def test_invalid_json_falls_back_to_text() -> None:
    assert "123-45-6789" in text_of(b'{"broken": 123-45-6789', "x.json")


def test_json_lines() -> None:
    assert "b\u00e9" in text_of(b'{"a": "b\\u00e9"}\n{"c": 1}\n', "x.jsonl")


def test_docx_body_table_header_footer_comment() -> None:
    text = text_of(
        docx_bytes(["body A"], header="head B", footer="foot C", table=[["cell D", "cell E"]], comment="comment F"),
        "x.docx",
    )
    for expected in ("body A", "head B", "foot C", "cell D", "cell E", "comment F"):
        assert expected in text


def test_xlsx_every_sheet_and_value() -> None:
    text = text_of(xlsx_bytes({"One": [["alpha", 42]], "Two": [[None, "beta"], [3.5]]}), "x.xlsx")
    for expected in ("alpha", "42", "beta", "3.5", "[sheet Two]"):
        assert expected in text


def test_pptx_slides_in_order_and_notes() -> None:
    text = text_of(pptx_bytes([f"slide {i}" for i in range(1, 12)], ["speaker note"]), "x.pptx")
    assert text.index("slide 2\n") < text.index("slide 10")
    assert "speaker note" in text


def test_pdf_pages() -> None:
    text = text_of(pdf_bytes([["first page"], ["second (page)"]]), "x.pdf")
    assert "first page" in text
    assert "second (page)" in text


def test_zip_entries_keep_their_names_and_nested_zips_are_opened() -> None:
    inner = zip_bytes({"deep/secret.txt": b"PLANTED-INNER123"})
    data = zip_bytes({"a.txt": b"PLANTED-OUTER123", "inner.zip": inner, "doc.docx": docx_bytes(["in docx"])})
    text = text_of(data, "x.zip")
    assert "[a.txt]\nPLANTED-OUTER123" in text
    assert "[deep/secret.txt]\nPLANTED-INNER123" in text
    assert "in docx" in text


def test_zip_nesting_counts_archives_not_their_entries() -> None:
    """The limit is on archives inside archives: a ZIP's plain entries read at the limit, a ZIP does not."""
    limits = ExtractionLimits(max_nesting=0)
    assert text_of(zip_bytes({"a.txt": b"PLANTED-OUTER123"}), "x.zip", limits) == "\n[a.txt]\nPLANTED-OUTER123"
    with pytest.raises(NotScanned, match=r"archives nested deeper than the limit \(0 levels\)"):
        text_of(zip_bytes({"inner.zip": zip_bytes({"a.txt": b"x"})}), "x.zip", limits)


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (pdf_bytes([["x"]]), "report.txt", Kind.PDF),
        (docx_bytes(["x"]), "report.pdf", Kind.DOCX),
        (xlsx_bytes({"s": [["x"]]}), "data.csv", Kind.XLSX),
        (pptx_bytes(["x"], []), "x.bin", Kind.PPTX),
        (zip_bytes({"a": b"b"}), "x.docx", Kind.ZIP),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "x.txt", Kind.IMAGE),
        (b'{"a": 1}', "x.json", Kind.JSON),
        (b"plain", None, Kind.TEXT),
        (b"# Notes on the %PDF-1.7 header\n", "notes.md", Kind.TEXT),
        (b"junk before the header\n" + pdf_bytes([["x"]]), "x.pdf", Kind.PDF),
        (bytes(range(256)) * 4, "x.txt", Kind.BINARY),
    ],
)
def test_content_decides_the_kind_not_the_extension(data: bytes, name: str | None, kind: Kind) -> None:
    assert detect_kind(data, name) is kind


def test_wrong_extension_still_extracts() -> None:
    assert "renamed" in text_of(docx_bytes(["renamed"]), "looks-like.pdf")


def test_binary_and_unsupported_are_not_scanned() -> None:
    with pytest.raises(NotScanned, match="binary"):
        text_of(bytes(range(256)) * 4, "x.txt")
    with pytest.raises(NotScanned, match="other than ZIP"):
        text_of(b"\x1f\x8b\x08\x00" + b"\x00" * 40, "x.gz")


def test_text_is_truncated_at_the_limit() -> None:
    limits = ExtractionLimits(max_text_chars=1000, chunk_chars=1024)
    assert len(text_of(b"a" * 5000, "x.txt", limits)) == 1000


def test_text_is_chunked() -> None:
    limits = ExtractionLimits(chunk_chars=1024)
    chunks = list(extract_file(b"line of text\n" * 1000, "x.txt", limits))
    assert len(chunks) > 5
    assert all(len(c) <= 1024 for c in chunks)
    assert "".join(chunks) == "line of text\n" * 1000


def test_empty_file_is_not_scanned() -> None:
    with pytest.raises(NotScanned, match="empty"):
        text_of(b"", "x.txt")


def test_limits_reject_unknown_keys_and_bad_values() -> None:
    with pytest.raises(ValueError, match="max_nesting"):
        ExtractionLimits.from_mapping({"max_nesting": -1})
    with pytest.raises(ValueError, match="max_file_byte"):
        ExtractionLimits.from_mapping({"max_file_byte": 1})
    assert ExtractionLimits.from_mapping({"max_nesting": 2}).max_nesting == 2


def _assert_only_not_scanned(data: bytes, name: str) -> None:
    reason = "scanned"
    try:
        for chunk in extract_file(data, name, ExtractionLimits(max_uncompressed_bytes=1 << 20)):
            assert isinstance(chunk, str)
    except NotScanned as outcome:
        reason = outcome.reason
    assert reason


_PREFIXES = [
    b"",
    b"%PDF-1.4\n",
    b"PK\x03\x04",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"\xef\xbb\xbf",
    b"\x89PNG\r\n\x1a\n",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from(_PREFIXES),
    body=st.binary(max_size=2048),
    name=st.sampled_from(["x.txt", "x.json", "x.pdf", "x.docx", None]),
)
def test_random_bytes_never_raise_anything_but_not_scanned(prefix: bytes, body: bytes, name: str | None) -> None:
    _assert_only_not_scanned(prefix + body, name or "")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    part=st.sampled_from(["word/document.xml", "[Content_Types].xml", "word/_rels/document.xml.rels"]),
    garbage=st.binary(max_size=512),
)
def test_corrupted_ooxml_parts_never_raise_anything_but_not_scanned(part: str, garbage: bytes) -> None:
    from files.builders import replace_part

    _assert_only_not_scanned(replace_part(docx_bytes(["x"]), part, garbage), "x.docx")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=1, max_value=4000), flip=st.integers(min_value=0, max_value=255))
def test_truncated_or_flipped_archives_and_pdfs(cut: int, flip: int) -> None:
    samples = (pdf_bytes([["abc"]]), xlsx_bytes({"s": [["v"]]}), zip_bytes({"a.txt": b"x" * 100}, zipfile.ZIP_DEFLATED))
    for data in samples:
        position = cut % len(data)
        _assert_only_not_scanned(data[:position], "x")
        _assert_only_not_scanned(data[:position] + bytes([flip]) + data[position + 1 :], "x")
