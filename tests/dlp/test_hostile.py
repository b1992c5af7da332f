"""Hostile files through the scanner: each is reported not scanned with its reason; nothing hangs or crashes."""

from __future__ import annotations

import io
import os
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from files.builders import (
    DTD_BILLION_LAUGHS,
    DTD_EXTERNAL_ENTITY,
    docx_bytes,
    encrypted_office_bytes,
    encrypted_pdf_bytes,
    nested_zip,
    pdf_bytes,
    replace_part,
    xlsx_bytes,
    zip_bytes,
)
from files.fake_engine import FakeEngine

from openai_casb.dlp.extract import Budget, ExtractionLimits, extract_file
from openai_casb.dlp.scanner import FileScanner, LocalFileResult

LIMITS = ExtractionLimits(timeout_seconds=10, memory_mb=256)


def scan(tmp_path: Path, name: str, data: bytes, limits: ExtractionLimits = LIMITS) -> LocalFileResult:
    path = tmp_path / name
    path.write_bytes(data)
    with FileScanner(FakeEngine(), limits, None, 1) as scanner:
        return scanner.scan_local(path)


def assert_not_scanned(result: LocalFileResult, reason_part: str) -> None:
    assert result.status == "not_scanned", result
    assert result.reason is not None
    assert reason_part in result.reason
    assert result.matches == ()


def test_high_ratio_zip_bomb(tmp_path: Path) -> None:
    bomb = zip_bytes({"zeros.txt": b"0" * (50 * 1024 * 1024)})  # ~50 KB compressed, ratio ~1000:1
    assert len(bomb) < 200_000
    assert_not_scanned(scan(tmp_path, "bomb.zip", bomb), "compression ratio")


def test_zip_bomb_lying_about_its_size_is_caught_while_streaming(tmp_path: Path) -> None:
    bomb = bytearray(zip_bytes({"zeros.txt": b"0" * (20 * 1024 * 1024)}))
    # Declare a 10-byte file in both headers: only the actual decompressed size gives it away.
    for header, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = bomb.find(header)
        bomb[at + offset : at + offset + 4] = (10).to_bytes(4, "little")
    # zipfile stops at the declared size, then the CRC gives the lie away: the entry is skipped.
    result = scan(tmp_path, "liar.zip", bytes(bomb))
    assert result.matches == ()
    assert any("zeros.txt not scanned: malformed archive entry" in note for note in result.notes)


def test_42_style_nested_bomb(tmp_path: Path) -> None:
    layer = zip_bytes({"zeros.bin": b"\x00" * (4 * 1024 * 1024)})
    for level in range(4):  # 16^4 leaves of 4 MB if fully unpacked: 256 GB
        layer = zip_bytes({f"l{level}-{i}.zip": layer for i in range(16)})
    assert len(layer) < 5_000_000
    limits = ExtractionLimits(timeout_seconds=10, memory_mb=256, max_total_uncompressed_bytes=64 * 1024 * 1024)
    result = scan(tmp_path, "42.zip", layer, limits)
    assert result.status == "not_scanned"
    assert result.reason is not None
    assert "limit" in result.reason


def test_nesting_past_the_limit(tmp_path: Path) -> None:
    limits = ExtractionLimits(max_nesting=3, timeout_seconds=10, memory_mb=256)
    assert_not_scanned(scan(tmp_path, "deep.zip", nested_zip("x.txt", b"PLANTED-ABCDEFGH", 5), limits), "nested deeper")
    within = scan(tmp_path, "ok.zip", nested_zip("x.txt", b"PLANTED-ABCDEFGH", 3), limits)
    assert within.status == "scanned"
    assert within.matches[0].count == 1


def test_entry_count_bomb(tmp_path: Path) -> None:
    limits = ExtractionLimits(max_archive_entries=100, timeout_seconds=10, memory_mb=256)
    many = zip_bytes({f"f{i}.txt": b"x" for i in range(500)})
    assert_not_scanned(scan(tmp_path, "many.zip", many, limits), "entry limit")


def test_entry_count_counts_nested_archives_together(tmp_path: Path) -> None:
    limits = ExtractionLimits(max_archive_entries=100, timeout_seconds=10, memory_mb=256)
    inner = zip_bytes({f"f{i}.txt": b"x" for i in range(60)})
    assert_not_scanned(scan(tmp_path, "two.zip", zip_bytes({"a.zip": inner, "b.zip": inner}), limits), "entry limit")


@pytest.mark.parametrize("xml", [DTD_BILLION_LAUGHS, DTD_EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_xml_entity_attacks_in_docx(tmp_path: Path, xml: str) -> None:
    hostile = replace_part(docx_bytes(["x"]), "word/document.xml", xml.encode())
    assert_not_scanned(scan(tmp_path, "evil.docx", hostile), "DOCTYPE or ENTITY")


def test_xml_entity_attack_in_xlsx_shared_strings_utf16(tmp_path: Path) -> None:
    hostile = replace_part(xlsx_bytes({"s": [["x"]]}), "xl/workbook.xml", DTD_BILLION_LAUGHS.encode("utf-16"))
    assert_not_scanned(scan(tmp_path, "evil.xlsx", hostile), "DOCTYPE or ENTITY")


def test_encrypted_pdf(tmp_path: Path) -> None:
    assert_not_scanned(scan(tmp_path, "locked.pdf", encrypted_pdf_bytes(["PLANTED-ABCDEFGH"])), "encrypted")


def test_encrypted_office_file(tmp_path: Path) -> None:
    assert_not_scanned(scan(tmp_path, "locked.docx", encrypted_office_bytes()), "encrypted")


def test_encrypted_zip_entries(tmp_path: Path) -> None:
    data = bytearray(zip_bytes({"a.txt": b"PLANTED-ABCDEFGH"}))
    for header, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set the "encrypted" flag bit
        at = data.find(header)
        data[at + offset] |= 1
    assert_not_scanned(scan(tmp_path, "locked.zip", bytes(data)), "encrypted")


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog", "PDF"),
        ("broken.docx", docx_bytes(["x"])[:400], "malformed"),
        ("broken.xlsx", replace_part(xlsx_bytes({"s": [["x"]]}), "xl/workbook.xml", b"<not-closed"), "XLSX"),
        ("legacy.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000, "legacy Office"),
        ("random.bin", os.urandom(4096), "unsupported"),
    ],
)
def test_malformed_files(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    assert_not_scanned(scan(tmp_path, name, data), reason)


def test_huge_file_over_the_limit_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with open(path, "wb") as handle:
        handle.truncate(200 * 1024 * 1024 * 1024)  # sparse: 200 GB declared, nothing on disk
    with FileScanner(FakeEngine(), LIMITS, None, 1) as scanner:
        result = scanner.scan_local(path)
        assert scanner.extractions == 0
    assert_not_scanned(result, "file size limit")


def test_small_configured_size_limit(tmp_path: Path) -> None:
    limits = ExtractionLimits(max_file_bytes=1000, timeout_seconds=10, memory_mb=256)
    assert_not_scanned(scan(tmp_path, "big.txt", b"a" * 1001, limits), "file size limit")


def test_empty_file(tmp_path: Path) -> None:
    assert_not_scanned(scan(tmp_path, "empty.txt", b""), "empty")


def test_wrong_extension_is_scanned_by_content(tmp_path: Path) -> None:
    result = scan(tmp_path, "actually-a-pdf.docx", pdf_bytes([["PLANTED-ABCDEFGH"]]))
    assert result.status == "scanned"
    assert result.matches[0].entry == "marker"


def _sleeping_extractor(data: bytes, name: str | None, limits: ExtractionLimits, budget: Budget) -> Iterator[str]:
    if name == "hang.txt":
        time.sleep(60)
    yield from extract_file(data, name, limits, budget)


def _crashing_extractor(data: bytes, name: str | None, limits: ExtractionLimits, budget: Budget) -> Iterator[str]:
    if name == "crash.txt":
        os.abort()
    if name == "hog.txt":
        hog = [bytearray(32 * 1024 * 1024) for _ in range(64)]  # 2 GB against a 256 MB limit
        yield str(len(hog))
    yield from extract_file(data, name, limits, budget)


def test_hanging_parser_loses_one_file_not_the_scan(tmp_path: Path) -> None:
    for name in ("a.txt", "hang.txt", "b.txt"):
        (tmp_path / name).write_bytes(b"PLANTED-ABCDEFGH")
    limits = ExtractionLimits(timeout_seconds=1.5, memory_mb=256)
    with FileScanner(FakeEngine(), limits, None, 2, extractor=_sleeping_extractor) as scanner:
        results = {r.path.name: r for r in scanner.scan_tree([tmp_path])}
    assert_not_scanned(results["hang.txt"], "timed out after 1.5 s")
    assert results["a.txt"].status == results["b.txt"].status == "scanned"


def test_crashing_and_memory_hungry_parsers(tmp_path: Path) -> None:
    for name in ("crash.txt", "hog.txt", "fine.txt"):
        (tmp_path / name).write_bytes(b"PLANTED-ABCDEFGH")
    with FileScanner(FakeEngine(), LIMITS, None, 1, extractor=_crashing_extractor) as scanner:
        results = {r.path.name: r for r in scanner.scan_tree([tmp_path])}
    assert_not_scanned(results["crash.txt"], "parser crashed (signal SIGABRT)")
    assert_not_scanned(results["hog.txt"], "memory limit")
    assert results["fine.txt"].status == "scanned"


def test_pdf_with_a_compressed_stream_bomb(tmp_path: Path) -> None:
    import zlib

    payload = zlib.compress(b"0" * (64 * 1024 * 1024), 9)
    plain = pdf_bytes([["x"]])
    at = plain.index(b"<< /Length")
    end = plain.index(b"endstream", at) + len(b"endstream")
    bomb = plain[:at] + b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(payload) + payload + b"\nendstream"
    bomb += plain[end:]
    result = scan(tmp_path, "bomb.pdf", bomb)
    assert result.status in ("scanned", "not_scanned")  # pypdf's own caps or ours: bounded either way
    assert result.matches == ()


def test_zip_member_names_are_sanitised(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("evil\x1b[31mname.bin", os.urandom(256))
        archive.writestr("ok.txt", b"PLANTED-ABCDEFGH")
    result = scan(tmp_path, "names.zip", out.getvalue())
    assert result.status == "scanned"
    assert any("evil?[31mname.bin" in note for note in result.notes)
