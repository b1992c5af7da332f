"""Golden tests: every format rendered from fixed records equals its file under golden/.

Regenerate after an intended change with `OPENAI_CASB_UPDATE_GOLDEN=1 .venv/bin/pytest tests/exports`
and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from export_fixtures import sample_events, sample_report

from openai_casb.exports.events import render_events_jsonl
from openai_casb.exports.formats import MEDIA_TYPES, RENDERERS, render

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("OPENAI_CASB_UPDATE_GOLDEN") == "1"


def _compare(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_bytes(actual.encode("utf-8"))
    assert path.exists(), f"missing golden file {path}; run with OPENAI_CASB_UPDATE_GOLDEN=1"
    assert actual == path.read_bytes().decode("utf-8")  # CSV lines end in CRLF: no newline translation


@pytest.mark.parametrize("format_name", sorted(RENDERERS))
def test_format_matches_golden(format_name: str) -> None:
    extension = MEDIA_TYPES[format_name][0]
    _compare(f"report{extension}", render(sample_report(), format_name))


def test_event_stream_matches_golden() -> None:
    _compare("events.jsonl", render_events_jsonl(sample_events()))


def test_unknown_format_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown export format 'xml'"):
        render(sample_report(), "xml")
