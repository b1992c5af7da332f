"""The native segment search (module _hsnative) finds exactly the segments the Python search finds."""

from __future__ import annotations

import importlib
import os
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quality.generator import generate_corpus

from openai_casb.dlp.detectors import PREDEFINED_DETECTORS, Detector
from openai_casb.dlp.detectors.base import (
    ALIGNED_CLASSES,
    SEGMENT_CHAINS,
    SEGMENT_WINDOWS,
    aligned_union,
    chain_superset,
)
from openai_casb.dlp.detectors.search import (
    NATIVE_AVAILABLE,
    _Collector,
    encode,
    hyperscan,
    hyperscan_compiles,
)
from openai_casb.dlp.engine import DlpEngine
from openai_casb.dlp.settings import DlpSettings

DIGIT_PATTERNS = [d.pattern for d in PREDEFINED_DETECTORS if d.segment == "digits"]
needs_both = pytest.mark.skipif(
    not NATIVE_AVAILABLE or hyperscan is None, reason="needs the native search and the hyperscan binding"
)


def engine(backend: str) -> DlpEngine:
    return DlpEngine.from_settings(DlpSettings(salt="native-test-salt"), backend=backend)  # type: ignore[arg-type]


def test_the_native_search_is_built_wherever_the_hyperscan_headers_are() -> None:
    # CI installs libhyperscan-dev: a build that silently fell back would leave it untested.
    if not os.path.exists("/usr/include/hs/hs.h"):
        pytest.skip("no Hyperscan headers on this machine")
    assert NATIVE_AVAILABLE
    assert engine("auto").backend == "hyperscan-native"


DIGITISH = [*"1234567890" * 3, " ", "-", ".", "x", "  ", "\n"]


def test_the_superset_is_implied_by_the_aligned_union() -> None:
    """Every aligned-union match holds a superset match (so the chain holding it is found), on
    texts built to hold every digit shape (separators, lengths, glued letters)."""
    assert set(ALIGNED_CLASSES) <= set(SEGMENT_CHAINS)
    union = re.compile(aligned_union(DIGIT_PATTERNS))
    superset = re.compile(chain_superset("digits"))
    rng = random.Random(7)
    checked = 0
    for _ in range(3000):
        text = "".join(rng.choice(DIGITISH) for _ in range(rng.randint(8, 40)))
        for match in union.finditer(text):
            assert superset.search(text, match.start(), match.end()), text
            checked += 1
    assert checked > 500


@needs_both
@pytest.mark.parametrize("seed", [1, 2])
def test_native_and_python_give_the_same_segments_on_the_labelled_corpus(seed: int) -> None:
    text, _ = generate_corpus(seed=seed, per_entry=20, negatives_per_kind=10, spacing=150)
    python, native = engine("hyperscan-python"), engine("hyperscan-native")
    data = encode(text)
    expected, found = python._search.segments(data), native._search.segments(data)
    assert found.by_class == expected.by_class
    assert found.by_detector == expected.by_detector
    assert python.detections(text) == native.detections(text)
    assert python.match(text) == native.match(text)


PYTHON = engine("hyperscan-python") if hyperscan is not None else None
NATIVE = engine("hyperscan-native") if NATIVE_AVAILABLE else None
PIECES = [
    "0", "7", "4716", "2810 3355", "-", ".", " ", "  ", "\n", "x", "AB", "GB82 WEST", "AKIA", "Z7Q4M2XK5P3R6T2W",
    "sk-proj-", "eyJhbGciOi",
    "AKIAZ7Q4M2XK5P3R6T2W", "Vq3nP8xZk2LmR7tYw9Bc4Hd6Jf1Ns5Gu0Ea/Xo+K", "x" * 300,
    "ghp_", "-----BEGIN RSA PRIVATE KEY", "aws secret", "=", "536-22-1234", "é",
]


@needs_both
@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=0, max_size=80))
def test_native_and_python_give_the_same_segments_on_any_text(pieces: list[str]) -> None:
    text = "".join(pieces)
    data = encode(text)
    assert PYTHON is not None
    assert NATIVE is not None
    expected = PYTHON._search.segments(data)
    found = NATIVE._search.segments(data)
    assert found.by_class == expected.by_class
    assert found.by_detector == expected.by_detector


def test_a_digit_chain_longer_than_the_first_window_is_grown_to_its_start() -> None:
    # The backward window first spans 64 characters; a joiner on its edge is only part of the
    # chain if a digit lies beyond, which that window cannot see: the run must not stop there.
    data = b"47162810335-" + b"5" * 63
    collector = _Collector(data)
    collector.hit("digits", -1, len(data) - 1)
    assert collector.found.by_class["digits"] == [(0, len(data))]


@pytest.mark.skipif(not NATIVE_AVAILABLE, reason="needs the native search")
def test_native_scanner_refuses_bad_input_with_clear_errors() -> None:
    from openai_casb.dlp import _hsnative

    classes = [("line", _hsnative.KIND_LINE, bytes(256), bytes(256), None, 0, 0)]
    with pytest.raises(ValueError, match="hyperscan refused"):
        _hsnative.Scanner([b"(unclosed"], [(0, -1)], classes)
    with pytest.raises(ValueError, match="one report per expression"):
        _hsnative.Scanner([b"abc"], [], classes)
    with pytest.raises(ValueError, match="unknown class"):
        _hsnative.Scanner([b"abc"], [(3, -1)], classes)
    with pytest.raises(TypeError):
        _hsnative.Scanner([b"abc"], [(0, -1)], [("line", 2, b"short", bytes(256), None, 0, 0)])
    with pytest.raises(ValueError, match="unknown class kind"):
        _hsnative.Scanner([b"abc"], [(0, -1)], [("line", 9, bytes(256), bytes(256), None, 0, 0)])
    scanner = _hsnative.Scanner([b"abc"], [(0, 4)], classes)
    assert scanner.segments(b"") == ({}, {})
    assert scanner.segments(b"x\nzabc\n") == ({}, {4: [(2, 6)]})
    assert scanner.segments("x\nzabc\n") == ({}, {4: [(2, 6)]})  # ASCII text is read in place
    with pytest.raises(ValueError, match="must be ASCII"):
        scanner.segments("café abc")
    with pytest.raises(TypeError):
        scanner.segments(12)
    assert not hyperscan_compiles("(?U)a+")
    assert hyperscan_compiles("[0-9]{3}")


WINDOW_DETECTORS = [d for d in PREDEFINED_DETECTORS if d.segment in SEGMENT_WINDOWS]


@pytest.mark.parametrize("detector", WINDOW_DETECTORS, ids=lambda d: d.key)
def test_window_detectors_fit_their_window(detector: Detector) -> None:
    # The match starts where its scan pattern's match starts (the anchor), so it begins at most
    # the scan pattern's length before the hit's end and ends within the pattern's longest match.
    back, forward = SEGMENT_WINDOWS[detector.segment]
    assert detector.scan_pattern is not None
    assert max_width(detector.scan_pattern) <= back - 1
    assert max_width(detector.pattern) - min_width(detector.scan_pattern) <= forward - 2


def max_width(pattern: str) -> int:
    return int(importlib.import_module("re._parser").parse(pattern).getwidth()[1])


def min_width(pattern: str) -> int:
    return int(importlib.import_module("re._parser").parse(pattern).getwidth()[0])


def test_window_segments_merge_when_they_overlap_or_touch() -> None:
    back, forward = SEGMENT_WINDOWS["window"]
    data = b"x" * 5000
    collector = _Collector(data)
    for position in (100, 300, 100 + back + forward, 3000, 4990):
        collector.hit("window", 7, position)
    assert collector.found.by_detector[7] == [
        (100 + 1 - back, 100 + back + forward + 1 + forward),
        (3000 + 1 - back, 3000 + 1 + forward),
        (4990 + 1 - back, 5000),
    ]


def test_a_key_id_pairs_only_with_a_secret_within_its_window() -> None:
    # Two key ids 2,000 characters apart, each in its own window segment: a secret-shaped value
    # 350 characters after the first (beyond its 300) is no pair; one on the next line is.
    key_id, value = "AKIAZ7Q4M2XK5P3R6T2W", "Vq3nP8xZk2LmR7tYw9Bc4Hd6Jf1Ns5Gu0Ea/Xo+K"
    text = f"id {key_id}" + " " * 350 + value + "." * 2000 + f" id {key_id}\nsecret {value}\n"
    for backend in ("re2", *(["hyperscan"] if NATIVE_AVAILABLE or hyperscan is not None else [])):
        counted = [d for d in engine(backend).detections(text) if d.entry == "AWS Secret Access Key"]
        assert [(d.start, d.end) for d in counted] == [(text.rindex(value), text.rindex(value) + 40)], backend
