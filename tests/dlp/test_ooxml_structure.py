"""OOXML packages read the way Office reads them: parts found through relationships, every text
part read once, embedded files opened, spreadsheet cost following the cells that exist."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from files.builders import docx_bytes, pptx_bytes, xlsx_bytes, zip_bytes
from files.fake_engine import FakeEngine

from openai_casb.dlp.extract import Budget, ExtractionLimits, LimitExceeded, NotScanned, extract_file
from openai_casb.dlp.scanner import FileScanner

CARD = "4716 2810 3355 7292"
AWS_KEY_ID = "AKIAZ7Q4M2XK5P3R6T2W"
LIMITS = ExtractionLimits()
_SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def text_of(data: bytes, name: str, limits: ExtractionLimits = LIMITS, budget: Budget | None = None) -> str:
    return "".join(extract_file(data, name, limits, budget))


def rezip(package: bytes, edit: Callable[[dict[str, bytes]], dict[str, bytes]]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    return zip_bytes(edit(parts))


def renamed_main_docx(decoy: bool) -> bytes:
    def rename(parts: dict[str, bytes]) -> dict[str, bytes]:
        parts["word/main.xml"] = parts.pop("word/document.xml")
        parts["word/_rels/main.xml.rels"] = parts.pop("word/_rels/document.xml.rels")
        parts["_rels/.rels"] = parts["_rels/.rels"].replace(b"word/document.xml", b"word/main.xml")
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"/word/document.xml", b"/word/main.xml")
        if decoy:
            parts["word/document.xml"] = (
                b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                b"<w:body><w:p><w:r><w:t>hello decoy</w:t></w:r></w:p></w:body></w:document>"
            )
        return parts

    return rezip(docx_bytes([f"card {CARD}"], header=f"key {AWS_KEY_ID}"), rename)


@pytest.mark.parametrize("decoy", [False, True])
def test_docx_main_part_is_found_through_the_package_relationships(decoy: bool) -> None:
    text = text_of(renamed_main_docx(decoy), "x.docx")
    assert text.count(CARD) == 1
    assert text.count(AWS_KEY_ID) == 1  # the header, reached through the renamed part's own rels
    if decoy:
        assert text.count("hello decoy") == 1  # read too, but once


def test_docx_part_nothing_points_at_is_still_read_once() -> None:
    def add_orphan(parts: dict[str, bytes]) -> dict[str, bytes]:
        parts["word/hidden/orphan.xml"] = (
            b'<w:hdr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            b"<w:p><w:r><w:t>card " + CARD.encode() + b"</w:t></w:r></w:p></w:hdr>"
        )
        return parts

    text = text_of(rezip(docx_bytes(["body"], header="head", footer="foot", comment="note"), add_orphan), "x.docx")
    assert text.count(CARD) == 1
    for part_text in ("body", "head", "foot", "note"):
        assert text.count(part_text) == 1


def test_pptx_slide_stored_under_another_name_is_read() -> None:
    def rename(parts: dict[str, bytes]) -> dict[str, bytes]:
        parts["ppt/slides/intro.xml"] = parts.pop("ppt/slides/slide1.xml")
        parts["ppt/slides/_rels/intro.xml.rels"] = parts.pop("ppt/slides/_rels/slide1.xml.rels")
        for name in list(parts):
            if name.endswith(".rels") or name == "[Content_Types].xml":
                parts[name] = parts[name].replace(b"slides/slide1.xml", b"slides/intro.xml")
        return parts

    text = text_of(rezip(pptx_bytes([f"card {CARD}", "second"], [f"key {AWS_KEY_ID}"]), rename), "x.pptx")
    assert text.count(CARD) == 1
    assert text.count(AWS_KEY_ID) == 1  # the renamed slide's notes, through its rels
    assert text.index(CARD) < text.index("second")  # presentation order, not name order


def test_strict_ooxml_namespaces_are_read() -> None:
    transitional = {
        b"http://schemas.openxmlformats.org/wordprocessingml/2006/main": b"http://purl.oclc.org/ooxml/wordprocessingml/main",
        _SML.encode(): b"http://purl.oclc.org/ooxml/spreadsheetml/main",
    }

    def strict(parts: dict[str, bytes]) -> dict[str, bytes]:
        for name, content in parts.items():
            if name.endswith(".xml"):
                for old, new in transitional.items():
                    content = content.replace(old, new)
                parts[name] = content
        return parts

    assert CARD in text_of(rezip(docx_bytes([f"card {CARD}"]), strict), "x.docx")
    assert CARD in text_of(rezip(xlsx_bytes({"s": [[f"card {CARD}"]]}), strict), "x.xlsx")


def one_sheet_xlsx(sheet_data: str, extra: str = "") -> bytes:
    sheet = (
        f'<?xml version="1.0"?><worksheet xmlns="{_SML}"><dimension ref="A1:XFD1048576"/>'
        f"<sheetData>{sheet_data}</sheetData>{extra}</worksheet>"
    ).encode()
    return rezip(xlsx_bytes({"s": [["x"]]}), lambda parts: {**parts, "xl/worksheets/sheet1.xml": sheet})


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def test_xlsx_text_follows_the_cells_that_exist_not_the_grid_they_span() -> None:
    # openpyxl materialised every empty cell between A1 and CV3000 (one tab per column, one line per row).
    data = one_sheet_xlsx(
        f'<row r="1">{inline("A1", "hi")}</row><row r="3000">{inline("CV3000", "card " + CARD)}</row>'
    )
    text = text_of(data, "x.xlsx")
    assert CARD in text
    assert text.count("\n") < 10
    assert text.count("\t") == 0


def test_xlsx_far_cell_is_scanned_within_the_time_limit(tmp_path: Path) -> None:
    data = one_sheet_xlsx(
        f'<row r="1">{inline("A1", "hi")}</row><row r="1048576">{inline("XFD1048576", "PLANTED-FARCELL1")}</row>'
    )
    assert len(data) < 20_000
    path = tmp_path / "far.xlsx"
    path.write_bytes(data)
    with FileScanner(FakeEngine(), ExtractionLimits(timeout_seconds=10, memory_mb=256), None, 1) as scanner:
        result = scanner.scan_local(path)
    assert result.status == "scanned", result.reason
    assert [match.entry for match in result.matches] == ["marker"]


def test_xlsx_values_of_every_kind() -> None:
    cells = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><v>42</v></c><c r="C1" t="b"><v>1</v></c>'
        '<c r="D1" t="str"><f>CONCAT("a","b")</f><v>cached formula</v></c><c r="E1" t="e"><v>#N/A</v></c>'
        '<c r="F1" t="s"><v>99</v></c><c r="G1"/></row>'
    )
    data = one_sheet_xlsx(cells)
    rich = (
        f'<?xml version="1.0"?><sst xmlns="{_SML}" count="1" uniqueCount="1">'
        '<si><r><t xml:space="preserve">card 4716 2810 '
        "</t></r><r><rPr><b/></rPr><t>3355 7292</t></r></si></sst>"
    ).encode()
    data = rezip(data, lambda parts: {**parts, "xl/sharedStrings.xml": rich})
    text = text_of(data, "x.xlsx")
    assert f"card {CARD}\t42\tTRUE\tcached formula\t#N/A\n" in text
    assert "CONCAT" not in text  # the cached value is what the reader sees


def test_xlsx_hidden_sheets_are_read() -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "visible"
    hidden = workbook.create_sheet("b")
    hidden["A1"] = f"card {CARD}"
    hidden.sheet_state = "veryHidden"
    out = io.BytesIO()
    workbook.save(out)
    text = text_of(out.getvalue(), "x.xlsx")
    assert "[sheet b]" in text
    assert CARD in text


def test_xlsx_comments_threaded_comments_and_headers_footers_are_read() -> None:
    import openpyxl
    from openpyxl.comments import Comment

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "hi"
    sheet["A1"].comment = Comment(f"card {CARD}", "someone")
    sheet.oddHeader.center.text = f"key {AWS_KEY_ID}"
    sheet.oddFooter.right.text = "footer &[Page]"
    out = io.BytesIO()
    workbook.save(out)
    threaded = (
        b'<?xml version="1.0"?><ThreadedComments '
        b'xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
        b'<threadedComment ref="B2" id="{1}"><text>reply 5500 0000 0000 0004</text></threadedComment>'
        b"</ThreadedComments>"
    )
    data = rezip(out.getvalue(), lambda parts: {**parts, "xl/threadedComments/threadedComment1.xml": threaded})
    text = text_of(data, "x.xlsx")
    assert text.count(CARD) == 1
    assert f"\tkey {AWS_KEY_ID}" in text  # the "&C" section code is not glued to the value
    assert "5500 0000 0000 0004" in text


def embed(package: bytes, entries: dict[str, bytes]) -> bytes:
    return rezip(package, lambda parts: {**parts, **entries})


def test_files_embedded_in_a_docx_are_scanned_and_unreadable_ones_noted() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    data = embed(
        docx_bytes(["nothing"]),
        {
            "word/embeddings/Microsoft_Excel_Worksheet.xlsx": xlsx_bytes({"s": [[f"card {CARD}"]]}),
            "word/embeddings/notes.txt": f"key {AWS_KEY_ID}".encode(),
            "word/embeddings/oleObject1.bin": ole,
        },
    )
    budget = Budget(LIMITS)
    text = text_of(data, "x.docx", budget=budget)
    assert text.count(CARD) == 1
    assert "[word/embeddings/Microsoft_Excel_Worksheet.xlsx]" in text
    assert AWS_KEY_ID in text
    assert budget.notes == [
        "embedded word/embeddings/oleObject1.bin not scanned: unsupported format: legacy Office (OLE2) file"
    ]


@pytest.mark.parametrize(
    ("package", "folder", "name"),
    [
        (lambda: xlsx_bytes({"s": [["x"]]}), "xl", "x.xlsx"),
        (lambda: pptx_bytes(["x"], []), "ppt", "x.pptx"),
    ],
)
def test_files_embedded_in_xlsx_and_pptx_are_scanned(package: Callable[[], bytes], folder: str, name: str) -> None:
    inner = docx_bytes([f"card {CARD}"])
    assert CARD in text_of(embed(package(), {f"{folder}/embeddings/Microsoft_Word_Document.docx": inner}), name)


def test_embedded_packages_count_as_a_nesting_level() -> None:
    data = docx_bytes([f"card {CARD}"])
    for _ in range(3):
        data = embed(docx_bytes(["outer"]), {"word/embeddings/inner.docx": data})
    assert CARD in text_of(data, "x.docx", ExtractionLimits(max_nesting=3))
    with pytest.raises(LimitExceeded, match="nested deeper"):
        text_of(data, "x.docx", ExtractionLimits(max_nesting=2))


def test_size_limit_applies_to_parts_not_named_xml() -> None:
    """Shared strings moved to `xl/strings.bin` (the relationships say where they are)."""
    big = (
        f'<?xml version="1.0"?><sst xmlns="{_SML}"><si><t>x</t></si><si><t>' + "y" * 200_000 + "</t></si></sst>"
    ).encode()

    def move(parts: dict[str, bytes]) -> dict[str, bytes]:
        parts["xl/strings.bin"] = big
        relationship = (
            '<Relationship Id="rIdS" Target="strings.bin" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
        )
        rels = parts["xl/_rels/workbook.xml.rels"]
        parts["xl/_rels/workbook.xml.rels"] = rels.replace(
            b"</Relationships>", relationship.encode() + b"</Relationships>"
        )
        return parts

    data = rezip(one_sheet_xlsx('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), move)
    assert "[sheet s]\nx\n" in text_of(data, "x.xlsx")
    with pytest.raises(NotScanned, match="archive entry over the uncompressed size limit"):
        text_of(data, "x.xlsx", ExtractionLimits(max_uncompressed_bytes=100_000))
    with pytest.raises(NotScanned, match="DOCTYPE or ENTITY"):
        text_of(
            rezip(data, lambda parts: {**parts, "xl/strings.bin": b'<!DOCTYPE x [<!ENTITY a "b">]>' + big}), "x.xlsx"
        )


def test_an_embedded_file_another_attempt_could_read_keeps_the_verdict_out_of_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from openai_casb.dlp.extract.image import TESSERACT_ENV

    monkeypatch.setenv(TESSERACT_ENV, str(tmp_path / "absent"))
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20  # inside the default OCR window
    budget = Budget(LIMITS)
    text = text_of(embed(docx_bytes([f"card {CARD}"]), {"word/embeddings/scan.png": png}), "x.docx", budget=budget)
    assert CARD in text
    assert budget.notes == ["embedded word/embeddings/scan.png not scanned: OCR unavailable: tesseract not installed"]
    assert budget.partial
    assert not budget.cacheable  # installing tesseract later must lead to a real scan


def _damage(package: bytes, name: str, *, method: int | None = None, encrypted: bool = False) -> bytes:
    """One entry's compression method or "encrypted" flag changed, in its local and central headers."""
    data = bytearray(package)
    encoded = name.encode()
    for header, flag_at, method_at, name_at in ((b"PK\x03\x04", 6, 8, 30), (b"PK\x01\x02", 8, 10, 46)):
        at = data.find(header)
        while at != -1:
            if data[at + name_at : at + name_at + len(encoded)] == encoded:
                if method is not None:
                    data[at + method_at] = method
                if encrypted:
                    data[at + flag_at] |= 1
            at = data.find(header, at + 4)
    return bytes(data)


def test_embedded_files_are_read_in_natural_order_and_each_failure_is_noted() -> None:
    """Empty, damaged and encrypted embedded files are noted, never fatal; names are shown printable."""
    data = embed(
        docx_bytes([f"card {CARD}"]),
        {
            "word/embeddings/a_empty.bin": b"",
            "word/embeddings/b_damaged.txt": b"damaged text",
            "word/embeddings/c_locked.txt": b"locked text",
            "word/embeddings/d10.txt": b"ten",
            "word/embeddings/d9.txt": b"nine",
            "word/embeddings/e\x1bvil.txt": f"key {AWS_KEY_ID}".encode(),
            "word/embeddings/_rels/d9.txt.rels": b"not read",
        },
    )
    data = _damage(data, "word/embeddings/b_damaged.txt", method=9)  # Deflate64: zipfile cannot read it
    data = _damage(data, "word/embeddings/c_locked.txt", encrypted=True)
    budget = Budget(LIMITS)
    text = text_of(data, "x.docx", budget=budget)
    assert CARD in text
    embedded = text[text.index("\n[word/embeddings/") :]
    assert embedded == (
        "\n[word/embeddings/d9.txt]\nnine\n[word/embeddings/d10.txt]\nten"
        f"\n[word/embeddings/e?vil.txt]\nkey {AWS_KEY_ID}"
    )
    assert budget.notes == [
        "embedded word/embeddings/a_empty.bin not scanned: empty file",
        "embedded word/embeddings/b_damaged.txt not scanned: malformed DOCX: malformed archive entry"
        " (NotImplementedError)",
        "embedded word/embeddings/c_locked.txt not scanned: encrypted",
    ]
    assert budget.cacheable


def test_a_package_whose_only_embedded_file_is_unreadable_is_still_scanned() -> None:
    budget = Budget(LIMITS)
    text = text_of(embed(docx_bytes([f"card {CARD}"]), {"word/embeddings/x.bin": b""}), "x.docx", budget=budget)
    assert CARD in text
    assert budget.notes == ["embedded word/embeddings/x.bin not scanned: empty file"]


def test_any_embedded_file_counts_as_a_nesting_level() -> None:
    """Unlike a ZIP's entries (test_extract), a file embedded in a package one level past the limit
    ends the file, whatever it is; a package with nothing embedded reads at any depth."""
    limits = ExtractionLimits(max_nesting=0)
    assert CARD in text_of(docx_bytes([f"card {CARD}"]), "x.docx", limits)
    with pytest.raises(LimitExceeded, match=r"archives nested deeper than the limit \(0 levels\)"):
        text_of(embed(docx_bytes([f"card {CARD}"]), {"word/embeddings/notes.txt": b"notes"}), "x.docx", limits)
