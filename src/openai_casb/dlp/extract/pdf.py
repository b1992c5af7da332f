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
rebuilt lines are added after the page's text, so ordinary text reads exactly as pypdf reads it;
they hold the words pypdf split and the plain words around them (labels), not the other words
pypdf read whole (a value there would count twice). A usual gap wider than 1.5 font heights is a
table's columns, not letter spacing, and is left apart.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from math import isfinite
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
# The widest usual gap read as letter spacing, in font heights: comb fields (boxes of 1.5-2 font
# heights) fit; single digits or letters in table columns are further apart and stay apart (a row
# "4 1 1 1 ..." is not a card number).
_MAX_TRACKING_EM = 1.5
_WHITESPACE = re.compile(r"\s+")
# A word kept as it is in a rebuilt line: letters, perhaps closed by a colon or a stop (a label).
_PLAIN_WORD = re.compile(r"[^\W\d_]+[:.,;]?")


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
            except (*_PARSE_ERRORS, ArithmeticError, AssertionError, ImportError) as error:
                # The page's plain text is already read; only the rebuild is lost.
                budget.note(f"page {index + 1}: glyph positions unreadable ({type(error).__name__})", partial=False)
                continue
            if rebuilt:
                yield "\n".join(rebuilt) + "\n"
    if count and not produced:
        raise NotScanned("malformed PDF: no page could be read")


def _glyph_runs(page: Any, budget: Budget, number: int) -> Iterator[_Run]:
    """The page's text-showing operations in content order, with positions in page space.

    Uses pypdf's layout-mode text state (fonts, widths, Tc/Tw/Tz/Ts, TJ offsets, cm/Tm stacks) but
    walks the operators itself, one run at a time: layout mode's own walker collects a whole
    BT/ET or q/Q group before returning it and pads a line's text with up to 10,000 spaces per
    gap, quadratic in the runs of one group (a page of 4,000 far-apart glyphs in one BT took
    40 seconds). Rotated text, fonts pypdf cannot interpret, runs shown before any font and runs
    at non-finite positions are left out."""
    from pypdf._text_extraction._layout_mode._fixed_width_page import set_font_operation
    from pypdf._text_extraction._layout_mode._text_state_manager import TextStateManager
    from pypdf.generic import ArrayObject, ContentStream, StreamObject

    contents = page.get("/Contents")
    if contents is not None:
        contents = contents.get_object()
    if not isinstance(contents, (ArrayObject, StreamObject)):
        return
    fonts = page._layout_mode_fonts()
    state = TextStateManager()
    seen = 0
    for operands, op in ContentStream(contents, page.pdf, "bytes").operations:
        shown: list[bytes | str] = []
        if op == b"q":
            state.add_q()
        elif op == b"Q":
            if len(state.q_depth) > 1:  # an unbalanced Q is ignored, as layout mode does
                state.remove_q()
        elif op in (b"BT", b"ET"):
            state.reset_tm()
        elif op == b"cm":
            _concat(state, operands)
        elif op == b"Tj" and operands and isinstance(operands[0], (str, bytes)):
            shown.append(operands[0])
        elif op == b"TJ" and operands and isinstance(operands[0], ArrayObject) and state.font is not None:
            # Each string of the array is a run and moves the next by its width; numbers move it back.
            for item in operands[0]:
                if isinstance(item, (str, bytes)):
                    params = state.text_state_params(item)
                    _advance(state, params.displacement_matrix())
                    seen += 1
                    if _usable(params):
                        yield _run_of(params)
                    if seen >= MAX_GLYPH_RUNS:  # one TJ array may hold them all
                        break
                elif isinstance(item, (int, float)):
                    _advance(state, state.text_state_params().displacement_matrix("", td_offset=item))
        elif op == b"'" or (op == b'"' and len(operands) >= 3):
            # Next line, then show the string (after setting Tw and Tc for ")
            state.reset_trm()
            if op == b'"':
                state.set_state_param(b"Tw", operands[0])
                state.set_state_param(b"Tc", operands[1])
            state.add_tm([0, -state.TL])
            index = 0 if op == b"'" else 2
            if index < len(operands) and isinstance(operands[index], (str, bytes)):
                shown.append(operands[index])
        elif op in (b"Td", b"Tm", b"TD", b"T*"):
            state.reset_trm()
            if op == b"Tm":
                state.reset_tm()
            elif op == b"TD" and len(operands) >= 2 and isinstance(operands[1], (int, float)):
                state.set_state_param(b"TL", -operands[1])
            elif op == b"T*":
                operands = [0, -state.TL]
            state.add_tm(operands)
        elif op == b"Tf":
            set_font_operation(state, fonts, operands)
        else:
            state.set_state_param(op, operands)
        if shown and state.font is not None:
            seen += 1
            params = state.text_state_params(shown[0])
            # A shown string moves the next one by its width (layout mode leaves it in place).
            _advance(state, params.displacement_matrix())
            if _usable(params):
                yield _run_of(params)
        if seen >= MAX_GLYPH_RUNS:
            budget.note(f"page {number}: glyph positions read for the first {MAX_GLYPH_RUNS} runs", partial=False)
            return


def _concat(state: Any, operands: list[Any]) -> None:
    """A cm: merged into the matrix the same q level concatenated last, so that a page of cm
    operators does not make every later run multiply through all of them."""
    from pypdf._text_extraction import mult

    state.reset_tm()
    top = state.transform_stack.maps[0]
    if len(state.transform_stack.maps) > 1 and state.q_queue[state.q_depth[-1]] > 0:
        matrix = list(state.raw_transform(*operands[-6:]).values())
        state.transform_stack.maps[0] = state.new_transform(*mult(matrix, [top[i] for i in range(6)]))
    else:
        state.add_cm(*operands)


def _advance(state: Any, displacement: list[float]) -> None:
    """Move the text position after a shown string or a TJ number, merged into the last move."""
    from pypdf._text_extraction import mult

    top = state.transform_stack.maps[0]
    if top["is_render"]:
        merged = mult(displacement, [top[i] for i in range(6)])
        state.transform_stack.maps[0] = state.new_transform(*merged, is_text=True, is_render=True)
    else:
        state.add_trm(displacement)


def _usable(params: Any) -> bool:
    return bool(
        params.text
        and not params.rotated
        and params.font.interpretable
        and all(isfinite(value) for value in (params.tx, params.displaced_tx, params.ty, params.font_height))
    )


def _run_of(params: Any) -> _Run:
    # space_tx is in text space; the positions are in page space.
    space = params.space_tx * abs(params.transform[0])
    return _Run(params.tx, params.displaced_tx, params.ty, params.font_height, space, params.text)


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
    """A letter-spaced line's words that pypdf split, with the plain words around them (labels,
    for keywords); None when the line is not letter-spaced. Other words pypdf read whole (a
    number, a key) are left out: the page text has them already, and twice would count twice."""
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
    if spacing > _MAX_TRACKING_EM * median(run.height for run in line):
        return None  # columns (a table of single digits), not letter spacing: left apart
    words: list[list[Any]] = []  # [text, whether pypdf split it]
    word: list[Any] | None = None
    previous: _Run | None = None
    for run in line:
        pieces = _WHITESPACE.split(run.text)
        if previous is not None and word is not None and pieces[0]:
            gap = run.x0 - previous.x1
            if gap > spacing + 0.5 * space:
                word = None  # a word break
            elif gap >= 0.5 * space:
                word[1] = True  # pypdf split here (it splits at half a space)
        for index, piece in enumerate(pieces):
            if index:
                word = None
            if not piece:
                continue
            if word is None:
                word = [piece, False]
                words.append(word)
            else:
                word[0] += piece
        previous = run
    if not any(split for _, split in words):
        return None  # pypdf split no letters of this line: read already
    return " ".join(text for text, split in words if split or _PLAIN_WORD.fullmatch(text))
