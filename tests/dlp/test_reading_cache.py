"""The verdict cache keys on how a file is read: the same bytes read as JSON or as text are two
verdicts; the same bytes read the same way are one."""

from __future__ import annotations

from pathlib import Path

from openai_casb.dlp.cache import MemoryVerdictCache
from openai_casb.dlp.engine import DlpEngine
from openai_casb.dlp.extract import ExtractionLimits
from openai_casb.dlp.scanner import FileScanner
from openai_casb.dlp.settings import DlpSettings

LIMITS = ExtractionLimits(timeout_seconds=30, memory_mb=512)
# A card number only JSON reading reveals: "\u0034" is "4" once the escape is decoded.
ESCAPED_CARD = b'{"card":"\\u0034716 2810 3355 7292"}'


def _engine() -> DlpEngine:
    return DlpEngine.from_settings(DlpSettings.model_validate({"salt": "reading-cache-salt"}))


def test_same_bytes_under_a_json_name_are_read_as_json_despite_a_cached_text_verdict(tmp_path: Path) -> None:
    for name in ("a.txt", "b.json", "c.json", "d.md"):
        (tmp_path / name).write_bytes(ESCAPED_CARD)
    with FileScanner(_engine(), LIMITS, MemoryVerdictCache(), 1) as scanner:
        results = {r.path.name: r for r in scanner.scan_tree([tmp_path])}
        assert scanner.extractions == 2  # one text reading, one JSON reading
    assert results["a.txt"].matched_profiles == ()
    assert results["d.md"].matched_profiles == ()
    assert results["d.md"].cached
    assert results["b.json"].matched_profiles == ("Financial Information",)
    assert not results["b.json"].cached
    assert results["c.json"].matched_profiles == ("Financial Information",)
    assert results["c.json"].cached


def test_content_that_is_not_text_is_keyed_by_its_bytes_alone() -> None:
    from openai_casb.dlp.extract.sniff import name_reading

    assert name_reading(b"PK\x03\x04rest", "x.zip") == name_reading(b"PK\x03\x04rest", None) == ""
    assert name_reading(b"%PDF-1.7\n", "x.pdf") == name_reading(b"\x89PNG\r\n\x1a\nrest", "x.txt") == ""
    assert name_reading(ESCAPED_CARD, "x.json") == "json"
    assert name_reading(ESCAPED_CARD, "x.TXT") == name_reading(ESCAPED_CARD, None) == "text"


def test_a_container_under_a_text_name_is_keyed_by_that_reading() -> None:
    # Its raw bytes are read as text as well (in the name's flavour): the name is part of the key.
    from openai_casb.dlp.extract.sniff import name_reading

    assert name_reading(b"%PDF-1.7\n", "x.csv") == name_reading(b"PK\x03\x04rest", "x.txt") == "text"
    assert name_reading(b"%PDF-1.7\n", "x.json") == "json"
