"""Office Open XML: DOCX, XLSX and PPTX, read as the ZIP of XML parts they are.

Before any XML parser sees a package, every XML part is streamed once under the archive limits
and refused if it declares a DOCTYPE or ENTITY (billion laughs, external entities): OOXML never
needs one. The parts are then parsed with defusedxml (DOCX, PPTX) or openpyxl in read-only mode
(XLSX), which also uses defusedxml when installed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from typing import Any

import defusedxml
import defusedxml.ElementTree as SafeElementTree

from openai_casb.dlp.extract.archive import check_entry_count, open_zip, read_entry
from openai_casb.dlp.extract.base import Budget, NotScanned, TextChunks

_DECLARATIONS = (b"<!doctype", b"<!entity")
# Lower-cased bytes in UTF-8 and both UTF-16 byte orders, the encodings an XML part may use.
_FORBIDDEN = tuple(
    pattern
    for text in _DECLARATIONS
    for pattern in (text, text.decode().encode("utf-16-le"), text.decode().encode("utf-16-be"))
)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
_ENTITY_REFUSAL = "refused: XML part declares a DOCTYPE or ENTITY (possible entity attack)"


def load_parts(data: bytes, budget: Budget, what: str) -> dict[str, bytes]:
    """All XML parts of the package, size-checked and free of DTDs."""
    parts: dict[str, bytes] = {}
    with open_zip(data, what) as archive:
        for info in check_entry_count(archive, budget):
            if not info.filename.lower().endswith((".xml", ".rels")):
                continue
            try:
                content = read_entry(archive, info, budget)
            except NotScanned as outcome:
                if outcome.reason == "encrypted":
                    raise
                if not outcome.cacheable:
                    raise
                raise NotScanned(f"malformed {what}: {outcome.reason}") from None
            if declares_dtd(content):
                raise NotScanned(_ENTITY_REFUSAL)
            parts[info.filename] = content
    return parts


def declares_dtd(content: bytes) -> bool:
    lowered = content.lower()
    return any(pattern in lowered for pattern in _FORBIDDEN)


def _numbered(parts: Iterable[str], prefix: str) -> list[str]:
    """`ppt/slides/slide10.xml` after `slide9.xml`: order parts by their number."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.xml$")
    found = [(int(m.group(1)), name) for name in parts if (m := pattern.match(name))]
    return [name for _, name in sorted(found)]


def _iter_text(content: bytes, text_tags: set[str], break_tags: set[str], tab_tags: set[str]) -> Iterator[str]:
    """Text of one XML part: text nodes in order, a newline at each paragraph end."""
    try:
        for _event, element in SafeElementTree.iterparse(io.BytesIO(content), events=("end",), forbid_dtd=True):
            tag = element.tag
            if tag in text_tags:
                if element.text:
                    yield element.text
            elif tag in break_tags:
                yield "\n"
                element.clear()  # keeps memory flat on large documents
            elif tag in tab_tags:
                yield "\t"
    except defusedxml.DefusedXmlException:
        raise NotScanned(_ENTITY_REFUSAL) from None
    except SafeElementTree.ParseError:
        raise NotScanned("malformed XML part") from None


def _join(pieces: Iterator[str], size: int) -> TextChunks:
    buffer: list[str] = []
    length = 0
    for piece in pieces:
        buffer.append(piece)
        length += len(piece)
        if length >= size and piece == "\n":
            yield "".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer)


def extract_docx(data: bytes, budget: Budget) -> TextChunks:
    """Body, headers, footers, footnotes, endnotes and comments, tables included."""
    parts = load_parts(data, budget, "DOCX")
    names = ["word/document.xml"]
    for prefix in ("word/header", "word/footer"):
        names += _numbered(parts, prefix)
    names += [n for n in ("word/footnotes.xml", "word/endnotes.xml", "word/comments.xml") if n in parts]

    def pieces() -> Iterator[str]:
        for name in names:
            yield from _iter_text(parts[name], {_W + "t"}, {_W + "p", _W + "br", _W + "cr"}, {_W + "tab", _W + "tc"})
            yield "\n"

    yield from _join(pieces(), budget.limits.chunk_chars)


def extract_pptx(data: bytes, budget: Budget) -> TextChunks:
    """Every slide in order, then the speaker notes, then comments."""
    parts = load_parts(data, budget, "PPTX")
    names = _numbered(parts, "ppt/slides/slide") + _numbered(parts, "ppt/notesSlides/notesSlide")
    names += sorted(n for n in parts if n.startswith("ppt/comments/") and n.endswith(".xml"))

    def pieces() -> Iterator[str]:
        for name in names:
            yield from _iter_text(parts[name], {_A + "t", _P + "text"}, {_A + "p", _A + "br", _P + "cm"}, set())
            yield "\n"

    yield from _join(pieces(), budget.limits.chunk_chars)


def extract_xlsx(data: bytes, budget: Budget) -> TextChunks:
    """Every cell value of every sheet, tab-separated, one row per line."""
    load_parts(data, budget, "XLSX")  # the DTD and size checks; openpyxl re-reads the package
    import openpyxl  # imported here: slow to import and only needed for spreadsheets

    try:
        workbook: Any = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except defusedxml.DefusedXmlException:
        raise NotScanned(_ENTITY_REFUSAL) from None
    except (MemoryError, RecursionError):
        raise
    except Exception as error:  # openpyxl raises lxml, zipfile and its own errors on bad input
        raise NotScanned(f"malformed XLSX ({type(error).__name__})") from None
    try:
        buffer: list[str] = []
        length = 0
        for sheet in workbook.worksheets:
            buffer.append(f"[sheet {sheet.title}]\n")
            for row in sheet.iter_rows(values_only=True):
                line = "\t".join("" if value is None else str(value) for value in row).rstrip("\t") + "\n"
                buffer.append(line)
                length += len(line)
                if length >= budget.limits.chunk_chars:
                    yield "".join(buffer)
                    buffer, length = [], 0
        if buffer:
            yield "".join(buffer)
    except defusedxml.DefusedXmlException:
        raise NotScanned(_ENTITY_REFUSAL) from None
    except (MemoryError, RecursionError):
        raise
    except Exception as error:  # openpyxl raises lxml, zipfile and its own errors on bad input
        raise NotScanned(f"malformed XLSX ({type(error).__name__})") from None
    finally:
        workbook.close()
