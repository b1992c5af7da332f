"""Route bytes to the right extractor by content, and bound the text that comes out."""

from __future__ import annotations

from openai_casb.dlp.extract.archive import extract_zip, open_zip
from openai_casb.dlp.extract.base import Budget, NotScanned, TextChunks
from openai_casb.dlp.extract.image import extract_image
from openai_casb.dlp.extract.limits import ExtractionLimits
from openai_casb.dlp.extract.ooxml import extract_docx, extract_pptx, extract_xlsx
from openai_casb.dlp.extract.pdf import extract_pdf
from openai_casb.dlp.extract.sniff import (
    Kind,
    detect_kind,
    has_trailing_zip,
    named_text,
    pdf_header_at_start,
    reads_as_text,
    text_flavour,
)
from openai_casb.dlp.extract.text import extract_json, extract_text

_ENCRYPTED_OOXML = "EncryptedPackage".encode("utf-16-le")


_CONTAINERS = (Kind.PDF, Kind.ZIP, Kind.DOCX, Kind.XLSX, Kind.PPTX)


def extract_bytes(data: bytes, name: str | None, depth: int, budget: Budget) -> TextChunks:
    """Text chunks of one file or archive entry; raises NotScanned when it cannot be read.

    Content that is more than one thing is read as each: text with a PDF built into it (a header
    after the first byte), a container under a text name (`.csv`), text or binary with a ZIP
    appended. Each reading counts against the same budget and text limit."""
    if not data:
        raise NotScanned("empty file")
    kind = detect_kind(data, name)
    if kind is Kind.PDF:
        yield from _pdf_or_text(data, name, budget)
        return
    if kind in _CONTAINERS:
        yield from _container(kind, data, depth, budget)
        if named_text(name):
            yield from _also_text(data, name, budget)
        return
    if kind in (Kind.TEXT, Kind.JSON, Kind.BINARY) and has_trailing_zip(data):
        yield from _with_trailing_zip(kind, data, name, depth, budget)
        return
    yield from _single(kind, data, name, budget)


def _container(kind: Kind, data: bytes, depth: int, budget: Budget) -> TextChunks:
    if kind is Kind.DOCX:
        yield from extract_docx(data, budget, depth, extract_bytes)
    elif kind is Kind.XLSX:
        yield from extract_xlsx(data, budget, depth, extract_bytes)
    elif kind is Kind.PPTX:
        yield from extract_pptx(data, budget, depth, extract_bytes)
    else:
        yield from extract_zip(data, depth, budget, extract_bytes)


def _single(kind: Kind, data: bytes, name: str | None, budget: Budget) -> TextChunks:
    limits = budget.limits
    if kind is Kind.TEXT:
        yield from extract_text(data, limits)
    elif kind is Kind.JSON:
        yield from extract_json(data, limits)
    elif kind is Kind.IMAGE:
        yield from extract_image(data, budget)
    elif kind is Kind.OLE2:
        # Password-protected OOXML is an OLE2 container holding an "EncryptedPackage" stream.
        if _ENCRYPTED_OOXML in data:
            raise NotScanned("encrypted")
        raise NotScanned("unsupported format: legacy Office (OLE2) file")
    elif kind is Kind.OTHER_ARCHIVE:
        raise NotScanned("unsupported format: archive type other than ZIP")
    else:
        raise NotScanned("unsupported format: binary content")


def _as_text(data: bytes, name: str | None, budget: Budget) -> TextChunks:
    """The raw bytes as text, in the flavour the name picks."""
    if text_flavour(name) is Kind.JSON:
        yield from extract_json(data, budget.limits)
    else:
        yield from extract_text(data, budget.limits)


def _also_text(data: bytes, name: str | None, budget: Budget) -> TextChunks:
    """The raw bytes as text besides another reading; nothing when they do not start as text."""
    try:
        yield from _as_text(data, name, budget)
    except NotScanned:
        return


def _with_trailing_zip(kind: Kind, data: bytes, name: str | None, depth: int, budget: Budget) -> TextChunks:
    """Text (or binary) followed by a ZIP: the bytes before the ZIP as they are, then the ZIP's
    entries, under the archive limits. When `zipfile` cannot open it, the file is read as if no ZIP
    were there."""
    try:
        with open_zip(data) as archive:
            start = min((info.header_offset for info in archive.infolist()), default=archive.start_dir)
    except NotScanned:
        yield from _single(kind, data, name, budget)
        return
    if kind is not Kind.BINARY:
        # Offsets come from the archive: one that lies (0, past the end) leaves all of it text.
        yield from _single(kind, data[:start] if 0 < start < len(data) else data, name, budget)
    yield from extract_zip(data, depth, budget, extract_bytes)


def _pdf_or_text(data: bytes, name: str | None, budget: Budget) -> TextChunks:
    """A PDF, and its raw bytes as text too when the header comes after other bytes (text with a PDF
    built into it: a CSV whose rows sit before a valid PDF) or the name says text. When the header
    comes after other bytes and the file does not parse, the text it is. A file that starts with
    the header is a PDF: broken, it stays not scanned with its reason rather than read as text,
    which could call a corrupted document clean."""
    produced = False
    try:
        for chunk in extract_pdf(data, budget):
            produced = True
            yield chunk
    except NotScanned as outcome:
        if produced or pdf_header_at_start(data) or outcome.reason == "encrypted" or not reads_as_text(data):
            raise
        budget.note(f"{outcome.reason}; read as text", partial=False)
        yield from _as_text(data, name, budget)
        return
    if not pdf_header_at_start(data) or named_text(name):
        yield from _also_text(data, name, budget)


def extract_file(data: bytes, name: str | None, limits: ExtractionLimits, budget: Budget | None = None) -> TextChunks:
    """Text chunks of a whole file, cut at `limits.max_text_chars` (noted in the budget).

    Only NotScanned escapes: a parser bug on a strange file loses that file, not the scan.
    """
    budget = budget or Budget(limits)
    if len(data) > limits.max_file_bytes:
        raise NotScanned(f"over the file size limit ({limits.max_file_bytes} bytes)", cacheable=False)
    remaining = limits.max_text_chars
    try:
        for chunk in extract_bytes(data, name, 0, budget):
            if len(chunk) >= remaining:
                yield chunk[:remaining]
                budget.note(f"text truncated at {limits.max_text_chars} characters", cacheable=False)
                return
            remaining -= len(chunk)
            yield chunk
    except NotScanned:
        raise
    except MemoryError:
        raise NotScanned("over the memory limit", cacheable=False) from None
    except RecursionError:
        raise NotScanned("malformed file: nesting too deep to parse") from None
    except Exception as error:
        raise NotScanned(f"could not be parsed ({type(error).__name__})") from None
