"""Building file bytes of every supported type around a given text (generated orgs build them on download)."""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib

FILE_TYPES: tuple[str, ...] = ("txt", "csv", "tsv", "json", "md", "py", "docx", "xlsx", "pptx", "pdf", "zip", "png")

# Archives and Office documents stamp the time they are written; a real file keeps its bytes, so the
# emulator serves every download of a file with the same bytes (hash, content-hash cache) by fixing it.
_FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)
_FIXED_W3CDTF = "2026-01-01T00:00:00Z"
_OFFICE_TIMES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _reproducible(data: bytes) -> bytes:
    """`data` (a zip) re-packed with a fixed time on every entry and in Office core properties."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == "docProps/core.xml":
                content = _OFFICE_TIMES.sub(rb"\g<1>" + _FIXED_W3CDTF.encode() + rb"\g<2>", content)
            fixed = zipfile.ZipInfo(entry.filename, date_time=_FIXED_ZIP_TIME)
            fixed.compress_type, fixed.external_attr = entry.compress_type, entry.external_attr
            target.writestr(fixed, content)
    return out.getvalue()


def _rows(lines: list[str]) -> list[list[str]]:
    return [["line", "text"], *[[str(n), line] for n, line in enumerate(lines, 1)]]


def _delimited(lines: list[str], separator: str) -> bytes:
    out = []
    for row in _rows(lines):
        cells = [f'"{c}"' if separator in c or "\n" in c else c for c in row]
        out.append(separator.join(cells))
    return ("\n".join(out) + "\n").encode()


def _docx(lines: list[str]) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Notes", level=1)
    for line in lines:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _xlsx(lines: list[str]) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in _rows(lines):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _pptx(lines: list[str]) -> bytes:
    import pptx
    from pptx.util import Inches

    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])
    slide.shapes.title.text = "Quarterly review"
    frame = slide.shapes.add_textbox(Inches(0.5), Inches(1.5), Inches(9), Inches(5)).text_frame
    frame.text = lines[0] if lines else ""
    for line in lines[1:]:
        frame.add_paragraph().text = line
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF with a Helvetica text stream and a correct xref table."""
    text_lines = [part for line in lines for part in line.split("\n")]
    ops = ["BT", "/F1 10 Tf", "12 TL", "50 780 Td"]
    ops += [f"({_pdf_escape(line)}) Tj T*" for line in text_lines]
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842]"
        b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def png(width: int = 16, height: int = 16, rgb: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    """A solid-colour RGB PNG, encoded by hand (signature, IHDR, one zlib IDAT, IEND)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width  # filter byte 0, then the pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def _zip(lines: list[str]) -> bytes:
    """An archive holding a CSV with the first half of the text and a nested zip holding the rest in a .txt."""
    middle = (len(lines) + 1) // 2
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as nested:
        nested.writestr("inner/notes.txt", "\n".join(lines[middle:]) + "\n")
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export/data.csv", _delimited(lines[:middle], ","))
        archive.writestr("export/archive.zip", _reproducible(inner.getvalue()))
    return outer.getvalue()


def build(file_type: str, lines: list[str]) -> bytes:
    """The bytes of a `file_type` file whose text content is `lines` (a PNG carries no text)."""
    if file_type in ("txt", "md"):
        prefix = "# Notes\n\n" if file_type == "md" else ""
        return (prefix + "\n".join(lines) + "\n").encode()
    if file_type == "py":
        return ("".join(f"# {line}\n" if "\n" not in line else f'"""\n{line}\n"""\n' for line in lines)).encode()
    if file_type == "csv":
        return _delimited(lines, ",")
    if file_type == "tsv":
        return _delimited(lines, "\t")
    if file_type == "json":
        return json.dumps({"records": [{"n": n, "text": line} for n, line in enumerate(lines, 1)]}, indent=1).encode()
    if file_type == "pdf":
        return _pdf(lines)
    zipped = {"docx": _docx, "xlsx": _xlsx, "pptx": _pptx, "zip": _zip}
    if file_type in zipped:
        return _reproducible(zipped[file_type](lines))
    if file_type == "png":
        return png()
    raise ValueError(f"unsupported file type {file_type!r}")
