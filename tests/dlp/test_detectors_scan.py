"""The fast scan's shortcuts are sound: they never skip a segment that holds a detection."""

from __future__ import annotations

import importlib
import re

import pytest
from quality.generator import generate_corpus

from openai_casb.dlp.detectors import PREDEFINED_DETECTORS, Detector
from openai_casb.dlp.detectors.base import ALIGNED_CLASSES, MIN_DIGITS, SEGMENT_RUNS, aligned_union
from openai_casb.dlp.engine import DlpEngine
from openai_casb.dlp.settings import DlpSettings

DIGITS = [d for d in PREDEFINED_DETECTORS if d.segment == "digits"]


def min_width(pattern: str) -> int:
    parser = importlib.import_module("re._parser")  # the stdlib's own regex parser
    return int(parser.parse(pattern).getwidth()[0])


@pytest.mark.parametrize("detector", DIGITS, ids=lambda d: d.key)
def test_digit_detectors_match_at_least_min_digits_characters(detector: Detector) -> None:
    # Pieces of digit runs shorter than MIN_DIGITS are never searched.
    assert min_width(detector.pattern) >= MIN_DIGITS


@pytest.fixture(scope="module")
def planted() -> list[tuple[str, str, str]]:
    """(entry, value, text around it) of every planted value of a small corpus."""
    text, labels = generate_corpus(seed=21, per_entry=12, negatives_per_kind=0, spacing=50)
    return [(lab.entry, text[lab.start : lab.end], text) for lab in labels if lab.entry]


def test_every_scan_pattern_is_found_in_every_value_of_its_entries(planted: list[tuple[str, str, str]]) -> None:
    checked = 0
    for detector in PREDEFINED_DETECTORS:
        if detector.scan_pattern is None:
            continue
        for entry, value, _ in planted:
            match = re.search(detector.pattern, value) if entry in detector.entries else None
            if match is not None:
                assert re.search(detector.scan_pattern, match.group(0)), (detector.key, entry)
                checked += 1
    assert checked > 100


def test_digit_values_are_single_chains_and_hit_the_aligned_union(planted: list[tuple[str, str, str]]) -> None:
    union = re.compile(aligned_union([d.pattern for d in DIGITS]))
    chain = re.compile(SEGMENT_RUNS["digits"])
    entries = {e for d in DIGITS for e in d.entries}
    values = [(entry, value) for entry, value, _ in planted if entry in entries]
    assert len(values) > 100
    for entry, value in values:
        assert chain.fullmatch(value), entry
        assert union.search(" " + value), entry
    assert "digits" in ALIGNED_CLASSES


def test_ordinary_number_runs_are_not_candidates() -> None:
    engine = DlpEngine.from_settings(DlpSettings(salt="scan-test-salt"))
    prose = "in 2024 we shipped 48213 92841 units to 1200 stores, 77 12 3 9 5 of them late"
    assert engine._search.segments(prose.encode()).by_class.get("digits", []) == []
    assert engine._search.segments(b"SSN 536-22-1234.").by_class["digits"] == [(4, 15)]
