"""PDFs whose glyphs are placed one by one, letter-spaced: the values in them are found.

Generators and "print to PDF" drivers often position every character separately; with letter
spacing (tracking) or comb fields (one digit per box) pypdf's plain text reads such a line as
"4 7 1 6 2 8 ...", which no detector matches. The PDFs here are written by hand, one text-showing
operation per glyph in the usual forms (Td/Tj, Tm/Tj, one BT/ET per glyph, TJ arrays with spacing
offsets), and scanned through the sandboxed FileScanner, as `openai-casb dlp scan` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from files.builders import pdf_bytes, pdf_of_objects

from openai_casb.dlp.engine import DlpEngine
from openai_casb.dlp.extract import Budget, ExtractionLimits, extract_file
from openai_casb.dlp.extract import pdf as pdf_extractor
from openai_casb.dlp.scanner import FileScanner
from openai_casb.dlp.settings import DlpSettings

LINES = ["aws key AKIA2OGYBAH6QJ7ZXK5C", "card number 4716 2810 3355 7292", "iban GB82 WEST 1234 5698 7654 32"]
EXPECTED = {"AWS Access Key ID": 1, "Visa Card Number": 1, "IBAN": 1}
LIMITS = ExtractionLimits(timeout_seconds=30, memory_mb=512)

# Helvetica's widths (its AFM) for codes 32-126, in thousandths of the font size.
WIDTHS = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778,
    722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278,
    278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
]  # fmt: skip
SIZE = 11.0
FONTS = {
    # A standard font: the reader knows its widths.
    "helvetica": "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    # A TrueType font with its widths in the PDF, as drivers write them.
    "truetype": "<< /Type /Font /Subtype /TrueType /BaseFont /ABCDEF+Arial /Encoding /WinAnsiEncoding "
    f"/FirstChar 32 /LastChar 126 /Widths [{' '.join(map(str, WIDTHS))}] >>",
}


def _width(char: str) -> float:
    return WIDTHS[ord(char) - 32] * SIZE / 1000


def _escape(char: str) -> str:
    return char.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _glyphs(lines: list[str], tracking: float) -> Iterator[tuple[float, float, str]]:
    """(x, y, char) of every glyph but spaces, each `tracking` points after the previous one."""
    for row, line in enumerate(lines):
        x, y = 72.0, 740.0 - 16 * row
        for char in line:
            if char != " ":
                yield x, y, char
            x += _width(char) + tracking


def td_per_glyph(lines: list[str], tracking: float) -> str:
    ops, at = ["BT", "/F1 11 Tf"], (0.0, 0.0)
    for x, y, char in _glyphs(lines, tracking):
        ops.append(f"{x - at[0]:.3f} {y - at[1]:.3f} Td ({_escape(char)}) Tj")
        at = (x, y)
    return "\n".join([*ops, "ET"])


def tm_per_glyph_flipped(lines: list[str], tracking: float) -> str:
    """Top-down page space (a flipped CTM), as browsers' "print to PDF" write it."""
    ops = ["1 0 0 -1 0 792 cm", "BT", "/F1 11 Tf"]
    ops += [f"1 0 0 -1 {x:.3f} {792 - y:.3f} Tm ({_escape(char)}) Tj" for x, y, char in _glyphs(lines, tracking)]
    return "\n".join([*ops, "ET"])


def bt_per_glyph(lines: list[str], tracking: float) -> str:
    return "\n".join(
        f"BT /F1 11 Tf 1 0 0 1 {x:.3f} {y:.3f} Tm ({_escape(char)}) Tj ET" for x, y, char in _glyphs(lines, tracking)
    )


def tj_offsets(lines: list[str], tracking: float) -> str:
    """One TJ array per line: every glyph its own string, letter and word spacing as offsets."""
    letter = round(-tracking * 1000 / SIZE)
    word = round(-(tracking * 2 * 1000 / SIZE) - WIDTHS[0])
    ops = ["BT", "/F1 11 Tf"]
    for row, line in enumerate(lines):
        items: list[str] = []
        for char in line:
            if char == " ":
                items[-1] = str(word)
            else:
                items += [f"({_escape(char)})", str(letter)]
        ops.append(f"1 0 0 1 72 {740 - 16 * row} Tm [{' '.join(items[:-1])}] TJ")
    return "\n".join([*ops, "ET"])


STYLES: dict[str, Callable[[list[str], float], str]] = {
    "Td/Tj": td_per_glyph,
    "Tm/Tj flipped": tm_per_glyph_flipped,
    "BT/ET": bt_per_glyph,
    "TJ offsets": tj_offsets,
}


def comb_field(label: str, digits: str, box: float = 18.0) -> str:
    """A label, then one digit centred in each box of a comb field (flattened forms)."""
    ops = ["BT /F1 11 Tf 1 0 0 1 72 700 Tm", f"({_escape(label)}) Tj", "ET"]
    for index, digit in enumerate(digits):
        x = 160 + index * box + (box - _width(digit)) / 2
        ops.append(f"BT /F1 11 Tf 1 0 0 1 {x:.3f} 700 Tm ({digit}) Tj ET")
    return "\n".join(ops)


def page_pdf(content: str, font: str = FONTS["helvetica"]) -> bytes:
    """A one-page PDF with `content` as its content stream and `font` as /F1, exact xref offsets."""
    stream = content.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        font.encode(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R"
        b" /Resources << /Font << /F1 3 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    return pdf_of_objects(objects)


def text_of(data: bytes) -> str:
    return "".join(extract_file(data, "x.pdf", LIMITS))


@pytest.fixture(scope="module")
def scanner() -> Iterator[FileScanner]:
    with FileScanner(DlpEngine.from_settings(DlpSettings()), LIMITS, None, 1) as started:
        yield started


def scan_counts(scanner: FileScanner, tmp_path: Path, data: bytes) -> dict[str, int]:
    path = tmp_path / "statement.pdf"
    path.write_bytes(data)
    result = scanner.scan_local(path)
    assert result.status == "scanned", result.reason
    return {match.entry: match.count for match in result.matches}


@pytest.mark.parametrize("font", sorted(FONTS))
@pytest.mark.parametrize("style", sorted(STYLES))
@pytest.mark.parametrize("tracking", [2.0, 4.5])
def test_letter_spaced_glyphs_are_scanned(
    scanner: FileScanner, tmp_path: Path, style: str, font: str, tracking: float
) -> None:
    data = page_pdf(STYLES[style](LINES, tracking), FONTS[font])
    # Each value once: the rebuilt lines are added only where pypdf split the letters.
    assert scan_counts(scanner, tmp_path, data) == EXPECTED
    text = text_of(data)
    for line in LINES:  # words stay apart: "card number 4716 ...", not "cardnumber4716..."
        assert line in text.splitlines()


@pytest.mark.parametrize("style", sorted(STYLES))
def test_glyphs_placed_at_their_widths_read_as_words(scanner: FileScanner, tmp_path: Path, style: str) -> None:
    data = page_pdf(STYLES[style](LINES, 0.0))
    assert scan_counts(scanner, tmp_path, data) == EXPECTED
    assert text_of(data).splitlines() == LINES  # nothing rebuilt, nothing added


def test_comb_field_digits_are_joined(scanner: FileScanner, tmp_path: Path) -> None:
    data = page_pdf(comb_field("Card number", "4716281033557292"))
    assert scan_counts(scanner, tmp_path, data) == {"Visa Card Number": 1}
    assert "Card number 4716281033557292" in text_of(data).splitlines()


def test_ordinary_pdf_text_is_unchanged(scanner: FileScanner, tmp_path: Path) -> None:
    lines = [*LINES, "a b c d e f: a list of single letters stays as written"]
    data = pdf_bytes([lines])
    assert text_of(data).splitlines() == lines
    assert scan_counts(scanner, tmp_path, data) == EXPECTED


def test_lines_of_a_page_are_rebuilt_apart_from_its_ordinary_lines() -> None:
    ordinary = "BT /F1 11 Tf 1 0 0 1 72 500 Tm (reference card number 4716 2810 3355 7292 in words) Tj ET"
    data = page_pdf(ordinary + "\n" + td_per_glyph(["iban GB82 WEST 1234 5698 7654 32"], 3.0))
    lines = text_of(data).splitlines()
    assert "reference card number 4716 2810 3355 7292 in words" in lines
    assert "iban GB82 WEST 1234 5698 7654 32" in lines
    assert sum("4716" in line for line in lines) == 1  # the ordinary line is not repeated


def test_glyph_positions_are_bounded_per_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_extractor, "MAX_GLYPH_RUNS", 10)
    budget = Budget(LIMITS)
    data = page_pdf(bt_per_glyph(LINES, 3.0))
    text = "".join(extract_file(data, "x.pdf", LIMITS, budget))
    assert "AKIA2OGYBAH6QJ7ZXK5C" not in text  # the rebuild stopped before the first line ended
    assert "A K I A 2 O G Y" in text  # pypdf's reading of the whole page is still there
    assert any("glyph positions read for the first 10 runs" in note for note in budget.notes)
    assert not budget.partial


def test_glyph_positions_are_bounded_inside_one_group(monkeypatch: pytest.MonkeyPatch) -> None:
    # The whole page in one q/Q group: the bound holds within it, not only between groups.
    monkeypatch.setattr(pdf_extractor, "MAX_GLYPH_RUNS", 10)
    budget = Budget(LIMITS)
    data = page_pdf("q\n" + td_per_glyph(LINES, 3.0) + "\nQ")
    text = "".join(extract_file(data, "x.pdf", LIMITS, budget))
    assert "AKIA2OGYBAH6QJ7ZXK5C" not in text
    assert "A K I A 2 O G Y" in text
    assert any("glyph positions read for the first 10 runs" in note for note in budget.notes)


def far_apart_glyphs(count: int) -> str:
    """After the letter-spaced lines, in the same text object, `count` glyphs on one line each
    far right of the previous one (layout mode pads every gap with up to 10,000 spaces)."""
    glyphs = "\n".join(f"1 0 0 1 {index * 40000} 100 Tm (.) Tj" for index in range(count))
    return td_per_glyph(LINES, 3.0).removesuffix("ET") + glyphs + "\nET"


def tj_numbers(count: int) -> str:
    """After the letter-spaced lines, one TJ array of `count` glyphs each followed by a number."""
    items = " ".join(f"(.) {-(index % 7)}" for index in range(count))
    return td_per_glyph(LINES, 3.0) + f"\nBT /F1 11 Tf 1 0 0 1 72 100 Tm [{items}] TJ ET"


@pytest.mark.parametrize("content", [far_apart_glyphs(8000), tj_numbers(20000)], ids=["far apart", "TJ numbers"])
def test_hostile_glyph_layouts_are_read_within_the_limits(scanner: FileScanner, tmp_path: Path, content: str) -> None:
    # Both were quadratic in the glyphs of one text object (minutes for a 200 KB page); the
    # sandbox's time limit then left the whole file unscanned.
    assert scan_counts(scanner, tmp_path, page_pdf(content)) == EXPECTED


def test_deeply_nested_graphics_states_are_read() -> None:
    data = page_pdf("q\n" * 5000 + td_per_glyph(LINES, 3.0) + "\nQ" * 5000)
    budget = Budget(LIMITS)
    lines = "".join(extract_file(data, "x.pdf", LIMITS, budget)).splitlines()
    assert all(line in lines for line in LINES), budget.notes


def test_single_glyphs_in_table_columns_stay_apart(scanner: FileScanner, tmp_path: Path) -> None:
    # A row of one-digit cells 34 points apart is a table, not letter spacing: "4 1 1 1 ..." (a
    # Luhn-valid test card number when glued) stays as pypdf reads it.
    cells = "\n".join(
        f"BT /F1 11 Tf 1 0 0 1 {60 + 34 * index} 700 Tm ({digit}) Tj ET"
        for index, digit in enumerate("4111111111111111")
    )
    data = page_pdf("BT /F1 11 Tf 1 0 0 1 20 700 Tm (Votes) Tj ET\n" + cells)
    assert "4111111111111111" not in text_of(data)
    assert scan_counts(scanner, tmp_path, data) == {}


def test_values_read_whole_on_a_rebuilt_line_count_once(scanner: FileScanner, tmp_path: Path) -> None:
    # A key shown whole, then a letter-spaced word on the same line: the rebuilt line keeps the
    # labels and the rebuilt word, not the key again.
    key = "BT /F1 11 Tf 1 0 0 1 72 700 Tm (aws key AKIA2OGYBAH6QJ7ZXK5C card 4716 2810 3355 7292) Tj ET"
    tracked = "\n".join(
        f"BT /F1 11 Tf 1 0 0 1 {400 + 12 * index} 700 Tm ({char}) Tj ET" for index, char in enumerate("NOTES")
    )
    data = page_pdf(key + "\n" + tracked)
    assert scan_counts(scanner, tmp_path, data) == {"AWS Access Key ID": 1, "Visa Card Number": 1}
    assert "aws key card NOTES" in text_of(data).splitlines()


def test_glyphs_at_infinite_positions_are_left_out() -> None:
    # Matrices whose product overflows to infinity: those glyphs are skipped, the rest is rebuilt.
    overflow = "1000000000000000000000000000000 0 0 1 0 0 cm\n" * 11
    data = page_pdf(td_per_glyph(LINES, 3.0) + "\nq\n" + overflow + td_per_glyph(LINES, 3.0) + "\nQ")
    budget = Budget(LIMITS)
    lines = "".join(extract_file(data, "x.pdf", LIMITS, budget)).splitlines()
    assert all(line in lines for line in LINES), budget.notes


def test_glyph_positions_are_bounded_inside_one_tj_array(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_extractor, "MAX_GLYPH_RUNS", 10)
    budget = Budget(LIMITS)
    data = page_pdf(tj_offsets(LINES, 3.0))
    text = "".join(extract_file(data, "x.pdf", LIMITS, budget))
    assert "AKIA2OGYBAH6QJ7ZXK5C" not in text
    assert any("glyph positions read for the first 10 runs" in note for note in budget.notes)
