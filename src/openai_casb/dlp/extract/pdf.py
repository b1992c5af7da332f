"""PDF text through pypdf, page by page.

Encrypted PDFs are tried with the empty user password (permission-only encryption, common for
"protected" exports); anything needing a real password is reported as not scanned, never cracked.
pypdf's own limits on decompressed stream sizes plus the worker's memory limit handle
compressed-stream bombs.

Glyphs placed one by one: many generators and "print to PDF" drivers position every character
separately, often with letter spacing (tracking) or in comb fields (one digit per box). pypdf's
plain extraction then puts a space between letters ("A K I A 2 O ...", "4 7 1 6 ..."), which hides
the values. When a page's text shows such a run, the page's text-showing operations are read
again with their positions (pypdf's layout-mode text state: start, end and decoded text of each
glyph run) and every letter-spaced line is rebuilt from the gaps: the line's usual gap between
single glyphs is the letter spacing, a gap wider than that by half a space is a word break. The
rebuilt lines are added after the page's text, so ordinary text reads exactly as pypdf reads it.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from statistics import median
from typing import Any

from openai_casb.dlp.extract.base import Budget, NotScanned, TextChunks

# Three single characters after a space, each followed by one ("... 7 1 6"): what letter-spaced
# glyphs look like in pypdf's plain text, and rare in ordinary text. Starting with a literal space
# keeps the search fast (about 400 MB/s) on the ordinary pages, where it finds nothing.
_SPACED_GLYPHS = re.compile(r" \S \S \S(?!\S)")
# Text-showing operations read per page for the rebuild; past this the rest of the page keeps
# pypdf's plain text only (bounds the memory the positions take on a hostile page).
MAX_GLYPH_RUNS = 200_000
# A line is letter-spaced when its usual gap between single glyphs is at least this share of a space
# (pypdf's plain extraction splits at half a space).
_TRACKED_SHARE = 0.25
# Single-glyph gaps a line needs before its usual gap is trusted.
_MIN_GLYPH_GAPS = 3


@dataclass(slots=True)
class _Run:
    """One text-showing operation (one string of a TJ array): where it starts and ends, its text."""

    x0: float
    x1: float
    y: float
    height: float
    space: float
    text: str


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
            page = pages[index]
            text = page.extract_text() or ""
        except FileNotDecryptedError:
            raise NotScanned("encrypted") from None
        except (*_PARSE_ERRORS, ZeroDivisionError, AssertionError) as error:
            budget.note(f"page {index + 1} unreadable ({type(error).__name__})")
            continue
        produced += 1
        yield text + "\n"
        if _SPACED_GLYPHS.search(text):
            try:
                rebuilt = _letter_spaced_lines(page, budget, index + 1)
            except (*_PARSE_ERRORS, ZeroDivisionError, AssertionError, ImportError) as error:
                # The page's plain text is already read; only the rebuild is lost.
                budget.note(f"page {index + 1}: glyph positions unreadable ({type(error).__name__})", partial=False)
                continue
            if rebuilt:
                yield "\n".join(rebuilt) + "\n"
    if count and not produced:
        raise NotScanned("malformed PDF: no page could be read")


def _glyph_runs(page: Any, budget: Budget, number: int) -> Iterator[_Run]:
    """The page's text-showing operations in content order, with positions in page space.

    Uses pypdf's layout-mode text state (fonts, widths, Tc/Tw/Tz/Ts, TJ offsets, cm/Tm stacks);
    rotated text and fonts pypdf cannot interpret are left out, as layout mode does."""
    from pypdf._text_extraction._layout_mode._fixed_width_page import (  # layout mode's own reader
        recurse_to_target_op,
        set_font_operation,
    )
    from pypdf._text_extraction._layout_mode._text_state_manager import TextStateManager
    from pypdf.generic import ArrayObject, ContentStream, StreamObject

    contents = page.get("/Contents")
    if contents is not None:
        contents = contents.get_object()
    if not isinstance(contents, (ArrayObject, StreamObject)):
        return
    fonts = page._layout_mode_fonts()
    ops = iter(ContentStream(contents, page.pdf, "bytes").operations)
    state = TextStateManager()
    seen = 0
    for operands, op in ops:
        if op in (b"BT", b"q"):
            _, shown = recurse_to_target_op(ops, state, b"ET" if op == b"BT" else b"Q", fonts, True)
            for run in shown:
                if run.rotated or not run.font.interpretable or not run.text:
                    continue
                # space_tx is in text space; the positions are in page space.
                space = run.space_tx * abs(run.transform[0])
                yield _Run(run.tx, run.displaced_tx, run.ty, run.font_height, space, run.text)
            seen += len(shown)
            if seen > MAX_GLYPH_RUNS:
                budget.note(f"page {number}: glyph positions read for the first {MAX_GLYPH_RUNS} runs", partial=False)
                return
        elif op == b"Tf":
            set_font_operation(state, fonts, operands)
        else:
            state.set_state_param(op, operands)


def _letter_spaced_lines(page: Any, budget: Budget, number: int) -> list[str]:
    """The page's letter-spaced lines rebuilt from glyph positions (see the module docstring)."""
    lines: list[list[_Run]] = []
    for run in _glyph_runs(page, budget, number):
        line = lines[-1] if lines else None
        if (
            line is None
            or abs(run.y - line[-1].y) > 0.5 * max(run.height, line[-1].height)
            or line[-1].x1 - run.x0 > 5 * max(run.space, line[-1].space)  # back to the left: a new line
        ):
            lines.append([run])
        else:
            line.append(run)
    return [text for line in lines if (text := _rebuild(line)) is not None]


def _rebuild(line: list[_Run]) -> str | None:
    """A letter-spaced line's text, words joined; None when the line is not letter-spaced."""
    glyph_gaps = [
        run.x0 - previous.x1
        for previous, run in pairwise(line)
        if len(previous.text) == 1 and len(run.text) == 1 and not previous.text.isspace() and not run.text.isspace()
    ]
    if len(glyph_gaps) < _MIN_GLYPH_GAPS:
        return None
    spacing = median(glyph_gaps)
    space = median(run.space for run in line)
    if space <= 0 or spacing < _TRACKED_SHARE * space:
        return None  # pypdf's own reading keeps these words
    if not any(0.5 * space <= gap <= spacing + 0.5 * space for gap in glyph_gaps):
        return None  # pypdf split no letters of this line (it splits at half a space): read already
    parts = [line[0].text]
    for previous, run in pairwise(line):
        if run.x0 - previous.x1 > spacing + 0.5 * space and not parts[-1][-1:].isspace() and not run.text[:1].isspace():
            parts.append(" ")
        parts.append(run.text)
    return " ".join("".join(parts).split())
