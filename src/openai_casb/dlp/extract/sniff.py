"""Recognise a file's format by its content first and its name second.

Names and MIME types from an API are not trusted: a PDF renamed `.txt` is still a PDF. The name
is only used to choose between text flavours (CSV, JSON, ...) and to say what a file claimed to
be when its content is unknown. `name_reading` tells, from a file's first bytes, what of its
name decides how it is read, so the verdict cache can key on it without extracting.
"""

from __future__ import annotations

import io
import zipfile
from enum import StrEnum
from pathlib import PurePosixPath


class Kind(StrEnum):
    TEXT = "text"
    JSON = "json"
    PDF = "pdf"
    ZIP = "zip"
    DOCX = "docx"
    XLSX = "xlsx"
    PPTX = "pptx"
    IMAGE = "image"
    OLE2 = "ole2"  # legacy Office or an encrypted OOXML container
    OTHER_ARCHIVE = "other_archive"
    BINARY = "binary"


_IMAGE_MAGIC: tuple[bytes, ...] = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a",
    b"GIF89a",
    b"II*\x00",  # TIFF little-endian
    b"MM\x00*",  # TIFF big-endian
)
_OTHER_ARCHIVES: tuple[bytes, ...] = (
    b"\x1f\x8b",  # gzip
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"BZh",
    b"\xfd7zXZ\x00",
)
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_JSON_SUFFIXES = {".json", ".jsonl", ".ndjson", ".geojson"}
# Names that say "text": a container (PDF, ZIP) under such a name is read as text as well.
_TEXT_SUFFIXES = {
    *_JSON_SUFFIXES, ".txt", ".text", ".csv", ".tsv", ".tab", ".psv", ".md", ".markdown", ".log", ".xml",
    ".html", ".htm", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".env", ".sql", ".rtf", ".tex",
}
# Signatures of containers the scanner opens: at byte 0 the content alone decides how it is read,
# except that a text name makes the raw bytes read as text as well (see `named_text`).
_CONTAINER_MAGIC: tuple[bytes, ...] = (b"%PDF-", b"PK\x03\x04", b"PK\x05\x06")
_ZIP_END = b"PK\x05\x06"
_ZIP_END_WINDOW = 22 + 65_535  # an end-of-central-directory record and the longest ZIP comment
_BOMS: tuple[bytes, ...] = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# Magic bytes that decide the format whatever follows: such content is never read as text.
_BINARY_MAGIC: tuple[bytes, ...] = (
    b"%PDF-", b"PK\x03\x04", b"PK\x05\x06", _OLE2_MAGIC, *_OTHER_ARCHIVES, *_IMAGE_MAGIC
)
SNIFF_BYTES = 8192  # the start of a file that decides whether it is text
_CONTROLS = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))


def pdf_header_at_start(data: bytes) -> bool:
    """A real PDF starts with its header; one found later (after junk) is only a candidate."""
    return data.startswith(b"%PDF-")


def detect_kind(data: bytes, name: str | None = None) -> Kind:
    """The format of `data`, by magic bytes; `name` only picks the text flavour."""
    head = data[:16]
    if pdf_header_at_start(data) or (b"%PDF-" in data[:1024] and b"%%EOF" in data[-2048:]):
        # Readers accept junk before the header, so such a file is tried as a PDF; the extractor
        # reads it as text when it does not parse (see dispatch): mentioning %PDF- hides nothing.
        return Kind.PDF
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_flavour(data)
    if head.startswith(_OLE2_MAGIC):
        return Kind.OLE2
    if head.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return Kind.IMAGE
    if head.startswith(_OTHER_ARCHIVES):
        return Kind.OTHER_ARCHIVE
    if head.startswith(_IMAGE_MAGIC):
        return Kind.IMAGE
    if head.startswith(_BOMS) or looks_like_text(data[:SNIFF_BYTES]):
        return text_flavour(name)
    if head.startswith(b"BM"):  # BMP: two bytes are weak evidence, so only when not text
        return Kind.IMAGE
    return Kind.BINARY


def text_flavour(name: str | None) -> Kind:
    """How text is read, by the name's suffix: JSON (escapes decoded) or plain text."""
    return Kind.JSON if PurePosixPath(name or "").suffix.lower() in _JSON_SUFFIXES else Kind.TEXT


def may_be_text(head: bytes) -> bool:
    """Whether content starting with `head` (its first SNIFF_BYTES bytes) can be read as text:
    only then does the name (its text flavour) play a part in how the file is read."""
    if head.startswith(_BINARY_MAGIC) or (head.startswith(b"RIFF") and head[8:12] == b"WEBP"):
        return False
    return head.startswith(_BOMS) or looks_like_text(head[:SNIFF_BYTES])


def named_text(name: str | None) -> bool:
    """Whether the name says a text type (`.csv`, `.txt`, `.json`, ...)."""
    return PurePosixPath(name or "").suffix.lower() in _TEXT_SUFFIXES


def name_reading(head: bytes, name: str | None) -> str:
    """What of `name` decides how a file starting with `head` is read: its text flavour when the
    content may be text, or when a container at byte 0 has a text name (its raw bytes are then read
    as text as well); "" when the content alone decides. Computed without extracting."""
    if may_be_text(head) or (head.startswith(_CONTAINER_MAGIC) and named_text(name)):
        return text_flavour(name).value
    return ""


def has_trailing_zip(data: bytes) -> bool:
    """Whether a ZIP end-of-central-directory record sits near the end of `data`, after other bytes:
    a ZIP appended to something else (text, an executable), which `zipfile` and `unzip` open."""
    return data.rfind(_ZIP_END, max(0, len(data) - _ZIP_END_WINDOW)) > 0


def reads_as_text(data: bytes) -> bool:
    """Whether all of `data` is text: the test for a PDF candidate that does not parse. Stricter
    than the start-only test, so binary streams further on keep a broken PDF a broken PDF."""
    if not may_be_text(data[:SNIFF_BYTES]):
        return False
    if data.startswith(_BOMS) or _looks_like_utf16(data[:SNIFF_BYTES]):
        return True
    if b"\x00" in data:
        return False
    controls = len(data) - len(data.translate(None, _CONTROLS))
    return controls < 0.05 * len(data)


def looks_like_text(sample: bytes) -> bool:
    """True for text in a common encoding: UTF-8/latin-1 without NULs, or UTF-16 without a BOM."""
    if not sample:
        return True
    if _looks_like_utf16(sample):
        return True
    if b"\x00" in sample:
        return False
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13, 27))
    return controls / len(sample) < 0.05


def _looks_like_utf16(sample: bytes) -> bool:
    """ASCII-range text in UTF-16 has a NUL in every other byte."""
    if len(sample) < 4:
        return False
    even, odd = sample[0::2], sample[1::2]
    for zeros, other in ((odd, even), (even, odd)):
        if zeros.count(0) > 0.9 * len(zeros) and other.count(0) < 0.1 * len(other):
            return True
    return False


def _zip_flavour(data: bytes) -> Kind:
    """Office Open XML files are ZIPs; their part names tell which application wrote them."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist()[:10_000])
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return Kind.ZIP  # the ZIP extractor reports the damage
    if "[Content_Types].xml" in names:
        if "word/document.xml" in names:
            return Kind.DOCX
        if "xl/workbook.xml" in names:
            return Kind.XLSX
        if "ppt/presentation.xml" in names:
            return Kind.PPTX
    return Kind.ZIP
