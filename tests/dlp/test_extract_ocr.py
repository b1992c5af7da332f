"""Images: OCR through the tesseract binary when present, a clear reason when not."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from openai_casb.dlp.extract import ExtractionLimits, NotScanned, extract_file
from openai_casb.dlp.extract.image import OCR_UNAVAILABLE, TESSERACT_ENV

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20  # ~5 KB: inside the default OCR window
LIMITS = ExtractionLimits(timeout_seconds=10)


def fake_tesseract(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "tesseract"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_without_tesseract_images_are_not_scanned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(TESSERACT_ENV, str(tmp_path / "absent"))
    with pytest.raises(NotScanned) as outcome:
        list(extract_file(PNG, "scan.png", LIMITS))
    assert outcome.value.reason == OCR_UNAVAILABLE == "OCR unavailable: tesseract not installed"
    assert not outcome.value.cacheable  # installing tesseract later must lead to a real scan


def test_tesseract_reads_the_image_from_stdin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The stand-in checks its arguments and that the image arrived on stdin.
    body = (
        '[ "$1 $2" = "stdin stdout" ] || exit 9\n'
        "head -c 4 | od -c | grep -q P || exit 8\n"
        "echo 'scanned text PLANTED-ABCDEFGH'\n"
    )
    monkeypatch.setenv(TESSERACT_ENV, str(fake_tesseract(tmp_path, body)))
    assert "PLANTED-ABCDEFGH" in "".join(extract_file(PNG, "photo.jpg", LIMITS))


def test_tesseract_failure_and_size_window(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(TESSERACT_ENV, str(fake_tesseract(tmp_path, "exit 1\n")))
    with pytest.raises(NotScanned, match="exit code 1"):
        list(extract_file(PNG, "x.png", LIMITS))
    with pytest.raises(NotScanned, match="OCR size window"):
        list(extract_file(PNG[:100], "x.png", LIMITS))


def test_hanging_tesseract_times_out(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(TESSERACT_ENV, str(fake_tesseract(tmp_path, "exec sleep 30\n")))
    with pytest.raises(NotScanned, match="OCR timed out"):
        list(extract_file(PNG, "x.png", ExtractionLimits(timeout_seconds=0.5)))
