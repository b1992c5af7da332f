"""PDF text through pypdf, page by page.

Encrypted PDFs are tried with the empty user password (permission-only encryption, common for
"protected" exports); anything needing a real password is reported as not scanned, never cracked.
pypdf's own limits on decompressed stream sizes plus the worker's memory limit handle
compressed-stream bombs.
"""

from __future__ import annotations

import io
import logging

from openai_casb.dlp.extract.base import Budget, NotScanned, TextChunks


def extract_pdf(data: bytes, budget: Budget) -> TextChunks:
    from pypdf import PdfReader  # imported here: only needed for PDFs
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    # pypdf warns about every small defect; those logs are noise and could quote document bytes.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    _PARSE_ERRORS = (PdfReadError, ValueError, TypeError, KeyError, IndexError, AttributeError, OSError, RecursionError)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise NotScanned("encrypted")
            except (DependencyError, FileNotDecryptedError, NotImplementedError):
                raise NotScanned("encrypted") from None
        pages = reader.pages
        count = len(pages)
    except NotScanned:
        raise
    except FileNotDecryptedError:
        raise NotScanned("encrypted") from None
    except _PARSE_ERRORS as error:
        raise NotScanned(f"malformed PDF ({type(error).__name__})") from None
    produced = 0
    for index in range(count):
        try:
            text = pages[index].extract_text() or ""
        except FileNotDecryptedError:
            raise NotScanned("encrypted") from None
        except (*_PARSE_ERRORS, ZeroDivisionError, AssertionError) as error:
            budget.note(f"page {index + 1} unreadable ({type(error).__name__})")
            continue
        produced += 1
        yield text + "\n"
    if count and not produced:
        raise NotScanned("malformed PDF: no page could be read")
