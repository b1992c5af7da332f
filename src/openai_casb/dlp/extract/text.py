"""Plain text, CSV/TSV, Markdown, source code and JSON.

Encoding: a BOM decides; otherwise UTF-16 is recognised by its NUL pattern, UTF-8 is tried
strictly, and latin-1 (which decodes any byte) is the fallback so no text file is refused.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any

from openai_casb.dlp.extract.base import NotScanned, TextChunks, chunk_text
from openai_casb.dlp.extract.limits import ExtractionLimits
from openai_casb.dlp.extract.sniff import _looks_like_utf16, looks_like_text

_BOM_ENCODINGS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def detect_encoding(data: bytes) -> tuple[str, int]:
    """(codec name, BOM length) for `data`."""
    for bom, encoding in _BOM_ENCODINGS:
        if data.startswith(bom):
            return encoding, len(bom)
    sample = data[:8192]
    if _looks_like_utf16(sample):
        odd_zeros = sample[1::2].count(0) > sample[0::2].count(0)
        return ("utf-16-le" if odd_zeros else "utf-16-be"), 0
    try:
        # A multi-byte sequence may be cut at the sample's end: decode incrementally, not final.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "latin-1", 0
    return "utf-8", 0


def decode_text(data: bytes) -> str:
    """Decode text bytes; undecodable bytes become U+FFFD rather than failing the file."""
    encoding, bom = detect_encoding(data)
    if encoding == "utf-8":
        try:
            return data[bom:].decode("utf-8")
        except UnicodeDecodeError:
            return data[bom:].decode("latin-1")  # UTF-8 only in the sniffed head
    return data[bom:].decode(encoding, errors="replace")


def extract_text(data: bytes, limits: ExtractionLimits) -> TextChunks:
    """Text, CSV/TSV, Markdown, code: the decoded text as it is, in chunks."""
    if not looks_like_text(data[:8192]) and detect_encoding(data)[1] == 0:
        raise NotScanned("unsupported format: binary content")
    yield from chunk_text(decode_text(data), limits.chunk_chars)


def extract_json(data: bytes, limits: ExtractionLimits) -> TextChunks:
    """JSON: keys and values after decoding escapes (`\\u0040` is `@`), one per line.

    Invalid JSON (or JSON Lines) is scanned as plain text so nothing is lost.
    """
    text = decode_text(data)
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        lines = _json_lines(text)
        if lines is None:
            yield from chunk_text(text, limits.chunk_chars)
            return
        documents: list[Any] = lines
    else:
        documents = [document]
    buffer: list[str] = []
    size = 0
    for document in documents:
        for scalar in _scalars(document):
            buffer.append(scalar)
            size += len(scalar) + 1
            if size >= limits.chunk_chars:
                yield "\n".join(buffer) + "\n"
                buffer, size = [], 0
    if buffer:
        yield "\n".join(buffer) + "\n"


def _json_lines(text: str) -> list[Any] | None:
    documents: list[Any] = []
    for line in text.splitlines():
        if line.strip():
            try:
                documents.append(json.loads(line))
            except (ValueError, RecursionError):
                return None
    return documents or None


def _scalars(document: Any) -> Iterator[str]:
    """Every key and scalar value of a JSON document, depth-first, without recursion."""
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in reversed(list(node.items())):
                stack.append(value)
                stack.append(str(key))
        elif isinstance(node, list):
            stack.extend(reversed(node))
        elif node is None:
            continue
        elif isinstance(node, str):
            yield node
        else:
            yield json.dumps(node)
