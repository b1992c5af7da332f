"""Images through the real `tesseract` binary: planted values found, hostile images reported, limits kept.

The stand-in tests in test_extract_ocr.py cover what the real binary cannot be made to do on
demand (a missing binary, a given exit code, a hang); these run the binary the README installs.
Without tesseract they skip, except in CI (CI=true or OPENAI_CASB_REQUIRE_SERVICES=1), where a
missing binary fails: an OCR path that silently stops being tested is what this file prevents.
"""

from __future__ import annotations

import io
import json
import os
import random
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont  # Pillow comes with python-pptx
from tests.dlp.test_extract_ocr import fake_tesseract
from typer.testing import CliRunner

from openai_casb.cli.app import app
from openai_casb.dlp.engine import DlpEngine
from openai_casb.dlp.extract import ExtractionLimits, NotScanned, extract_file
from openai_casb.dlp.extract.image import TESSERACT_ENV, tesseract_path
from openai_casb.dlp.scanner import FileScanner
from openai_casb.dlp.settings import DlpSettings

CARD = "4539 1488 0343 6467"  # a valid Visa number by checksum
AWS_KEY_ID = "AKIAXQ7RT4MJP2KVWNHE"
LINES = [f"Customer credit card number: {CARD} (visa)", f"AWS access key id: {AWS_KEY_ID}"]
EXPECTED = {("Financial Information", "Visa Card Number"), ("Credentials and Secrets", "AWS Access Key ID")}
LIMITS = ExtractionLimits(timeout_seconds=60, memory_mb=256)


@pytest.fixture
def real_tesseract(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv(TESSERACT_ENV, raising=False)  # the binary on PATH, not a configured stand-in
    binary = tesseract_path()
    if binary is None:
        reason = "tesseract is not installed (apt-get install tesseract-ocr)"
        if os.environ.get("CI") == "true" or os.environ.get("OPENAI_CASB_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason}, and CI must run the real OCR tests")
        pytest.skip(reason)
    return binary


def _render(lines: list[str], size: int = 40, width: int = 1400) -> bytes:
    """A PNG of black text on white, in Pillow's bundled font (no system font needed)."""
    font = ImageFont.load_default(size=size)
    assert isinstance(font, ImageFont.FreeTypeFont), "Pillow built without FreeType cannot render sized text"
    step = size * 2
    image = Image.new("L", (width, step * (len(lines) + 1)), 255)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((40, step // 2 + row * step), line, fill=0, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _dense_page() -> bytes:
    """A page of small random words: tens of seconds of OCR, far more than the tests' time limit."""
    rng = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    words = [
        " ".join("".join(rng.choice(alphabet) for _ in range(rng.randint(2, 9))) for _ in range(30)) for _ in range(68)
    ]
    return _render(words, size=18, width=1200)


def _engine() -> DlpEngine:
    return DlpEngine.from_settings(DlpSettings())


@pytest.fixture
def screenshot(real_tesseract: str, tmp_path: Path) -> Path:
    path = tmp_path / "images" / "screenshot.png"
    path.parent.mkdir()
    path.write_bytes(_render(LINES))
    assert LIMITS.ocr_min_bytes <= path.stat().st_size <= LIMITS.ocr_max_bytes  # inside the OCR window
    return path


def test_tesseract_reads_the_planted_values(screenshot: Path) -> None:
    text = "".join(extract_file(screenshot.read_bytes(), screenshot.name, LIMITS))
    assert CARD in text
    assert AWS_KEY_ID in text


def test_library_scan_finds_card_and_aws_key_in_an_image(screenshot: Path) -> None:
    with FileScanner(_engine(), LIMITS, None, 1) as scanner:
        result = scanner.scan_local(screenshot)
    assert result.status == "scanned", result.reason
    assert {(m.profile, m.entry) for m in result.matches} >= EXPECTED
    assert CARD not in repr(result)
    assert AWS_KEY_ID not in repr(result)


def test_cli_dlp_scan_finds_them_and_reports_hostile_images(screenshot: Path) -> None:
    folder = screenshot.parent
    good = screenshot.read_bytes()
    (folder / "truncated.png").write_bytes(good[: len(good) // 2])
    garbage = random.Random(3).randbytes(8000)
    (folder / "garbage.png").write_bytes(b"\x89PNG\r\n\x1a\n" + garbage)
    result = CliRunner().invoke(app, ["dlp", "scan", str(folder), "--format", "json"])
    assert result.exit_code == 0, result.output
    by_name = {Path(str(f["path"])).name: f for f in json.loads(result.stdout)}
    assert set(by_name) == {"screenshot.png", "truncated.png", "garbage.png"}
    shot = by_name["screenshot.png"]
    assert shot["status"] == "scanned"
    assert {(m["profile"], m["entry"]) for m in shot["matches"]} >= EXPECTED  # type: ignore[union-attr]
    for name in ("truncated.png", "garbage.png"):
        assert by_name[name]["status"] == "not_scanned"
        assert by_name[name]["reason"] == "OCR could not read the image (tesseract exit code 1)"
        assert by_name[name]["matches"] == []
    assert CARD not in result.output
    assert AWS_KEY_ID not in result.output


@pytest.mark.usefixtures("real_tesseract")
def test_the_time_limit_stops_a_long_ocr(tmp_path: Path) -> None:
    dense = tmp_path / "dense.png"
    dense.write_bytes(_dense_page())
    assert LIMITS.ocr_min_bytes <= dense.stat().st_size <= LIMITS.ocr_max_bytes
    with FileScanner(_engine(), ExtractionLimits(timeout_seconds=1, memory_mb=256), None, 1) as scanner:
        stopped = scanner.scan_local(dense)
    assert stopped.status == "not_scanned"
    assert stopped.reason is not None
    # tesseract stopped by the extractor (0.8 of the limit) or, failing that, the worker by the sandbox
    assert "timed out" in stopped.reason
    assert stopped.matches == ()


# Stand-ins (`fake_tesseract`) for what the real binary cannot be made to do on demand.


def test_tesseract_is_limited_to_one_thread(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # One OpenMP thread per tesseract: its CPU time then tracks wall time, so the wall-clock timeout,
    # not the inherited RLIMIT_CPU, is what stops a long OCR.
    body = '[ "$OMP_THREAD_LIMIT" = 1 ] || exit 7\necho "threads ok"\n'
    monkeypatch.setenv(TESSERACT_ENV, str(fake_tesseract(tmp_path, body)))
    assert "threads ok" in "".join(extract_file(_render(LINES), "x.png", LIMITS))


@pytest.mark.parametrize(
    ("signal_name", "reason"),
    [("XCPU", "OCR over the CPU time limit"), ("SEGV", "OCR stopped by signal SIGSEGV")],
)
def test_tesseract_killed_by_a_signal_is_not_cached(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, signal_name: str, reason: str
) -> None:
    monkeypatch.setenv(TESSERACT_ENV, str(fake_tesseract(tmp_path, f"cat >/dev/null\nkill -{signal_name} $$\n")))
    with pytest.raises(NotScanned) as outcome:
        list(extract_file(_render(LINES), "x.png", LIMITS))
    assert outcome.value.reason == reason
    assert not outcome.value.cacheable  # a limit or a crash, not a verdict on the image
