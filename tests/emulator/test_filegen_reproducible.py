"""A generated file has the same bytes on every download, as a real file does: archives and Office
documents no longer stamp the time they were built (which changed their hash, evidence and the
content-hash cache's key on every scan)."""

from __future__ import annotations

import time

import pytest

from openai_casb.dlp.engine import DlpEngine
from openai_casb.dlp.extract import ExtractionLimits, extract_file
from openai_casb.dlp.settings import DlpSettings
from openai_casb.emulator.filegen import build

LINES = ["Quarterly notes", "card 4716 2810 3355 7292 on file"]


@pytest.fixture(scope="module")
def built_twice() -> dict[str, tuple[bytes, bytes]]:
    first = {kind: build(kind, LINES) for kind in ("docx", "xlsx", "pptx", "zip")}
    time.sleep(2.1)  # zip times have a 2-second resolution: a later build would differ without the fix
    return {kind: (data, build(kind, LINES)) for kind, data in first.items()}


@pytest.mark.parametrize("kind", ["docx", "xlsx", "pptx", "zip"])
def test_a_file_built_twice_has_the_same_bytes(kind: str, built_twice: dict[str, tuple[bytes, bytes]]) -> None:
    first, second = built_twice[kind]
    assert first == second


@pytest.mark.parametrize("kind", ["docx", "xlsx", "pptx", "zip"])
def test_the_fixed_files_still_read_and_match(kind: str, built_twice: dict[str, tuple[bytes, bytes]]) -> None:
    engine = DlpEngine.from_settings(DlpSettings(salt="test-salt-value"))
    matcher = engine.matcher()
    for chunk in extract_file(built_twice[kind][0], f"notes.{kind}", ExtractionLimits()):
        matcher.feed(chunk)
    assert [m.entry for m in matcher.result().entry_matches] == ["Visa Card Number"]
