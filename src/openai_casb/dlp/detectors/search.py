"""Finding the segments that hold a hit, in one pass: Hyperscan when available, RE2 otherwise.

Both backends only answer "which segments of which class contain a match of some detector";
the exact matching inside a segment is done by the engine, identically for both. A backend
reports every segment that contains a match, so both give the same result (tested). What they
search for is cheaper than the detectors' patterns but implied by them: a detector's
`scan_pattern`, and for the digit class one union aligned on a value's start (ALIGNED_CLASSES).

Text is searched as `text.encode("ascii", "replace")`: one byte per character, so byte offsets
are character offsets. Built-in patterns are ASCII; detectors that are not go through
`always_run` and are matched on the text itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import re2

from openai_casb.dlp.detectors.base import (
    ALIGNED_CLASSES,
    SEGMENT_ALPHABETS,
    SEGMENT_CHAINS,
    SEGMENT_RUNS,
    SEGMENT_WINDOWS,
    Detector,
    aligned_union,
    chain_superset,
)

hyperscan: Any
try:  # x86_64 Linux wheels only; RE2 is the portable path
    import hyperscan
except ImportError:  # pragma: no cover - depends on the platform
    hyperscan = None

_hsnative: Any
try:  # built at install time when the Hyperscan headers are there (setup.py)
    from openai_casb.dlp import _hsnative
except ImportError:  # pragma: no cover - depends on the installation
    _hsnative = None

NATIVE_AVAILABLE = _hsnative is not None
HYPERSCAN_AVAILABLE = hyperscan is not None or NATIVE_AVAILABLE


Span = tuple[int, int]


@dataclass(slots=True)
class Segments:
    """Where the exact step runs: spans where every detector of a class may match, and spans
    where only one detector may (Hyperscan says which); both in text order, without repeats."""

    by_class: dict[str, list[Span]] = field(default_factory=dict)
    by_detector: dict[int, list[Span]] = field(default_factory=dict)


class SegmentSearch(Protocol):
    name: str

    def segments(self, data: bytes | str) -> Segments:
        """Segments of `data`: the text as `encode` gives it (one byte per character), or ASCII
        text as it is (its own encoding; the native search reads it in place, without a copy)."""


ANY_DETECTOR = -1  # a hit of a class union (or of RE2's class alternation): run them all


def _run_patterns() -> dict[str, re.Pattern[bytes]]:
    runs = {name: SEGMENT_RUNS.get(name, alphabet + "*") for name, alphabet in SEGMENT_ALPHABETS.items()}
    return {name: re.compile(run.encode()) for name, run in runs.items()}


class _Collector:
    """Turns (class, detector, position) hits into segments: the maximal run of the class around
    the position, grown with C-speed regexes both ways."""

    _runs = _run_patterns()

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.found = Segments()
        self._last: dict[str, Span] = {}
        self._last_of: dict[int, Span] = {}

    def hit(self, segment_class: str, detector: int, position: int) -> None:
        if segment_class in SEGMENT_WINDOWS:
            self._window_hit(segment_class, detector, position)
            return
        span = self._last.get(segment_class)
        if span is None or not span[0] <= position < span[1]:
            span = self._around(segment_class, position)
            self._last[segment_class] = span
            if detector == ANY_DETECTOR:
                self.found.by_class.setdefault(segment_class, []).append(span)
        if detector != ANY_DETECTOR and self._last_of.get(detector) != span:
            self._last_of[detector] = span
            self.found.by_detector.setdefault(detector, []).append(span)

    def _window_hit(self, segment_class: str, detector: int, position: int) -> None:
        """The hit's window, merged into the previous one of the same list where they overlap or
        touch (hits come in end order, so only the last one can)."""
        back, forward = SEGMENT_WINDOWS[segment_class]
        start, end = max(0, position + 1 - back), min(len(self.data), position + 1 + forward)
        if detector == ANY_DETECTOR:
            spans = self.found.by_class.setdefault(segment_class, [])
        else:
            spans = self.found.by_detector.setdefault(detector, [])
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))

    def _around(self, segment_class: str, position: int) -> Span:
        data = self.data
        if segment_class == "all":
            return 0, len(data)
        if segment_class == "line":
            line_end = data.find(b"\n", position)
            return data.rfind(b"\n", 0, position) + 1, len(data) if line_end < 0 else line_end
        run = self._runs[segment_class]
        forward = run.match(data, position)
        assert forward is not None  # `*` always matches
        # Backwards on a reversed window that grows until the run stops inside it: the cost
        # follows the run's length, not the text's.
        # A chain's joiner is in the run only if a core character is beyond it, which the window
        # cannot show for its last character: the run is known to stop only before that one.
        width = 64
        while True:
            low = max(0, position + 1 - width)
            backward = run.match(data[low : position + 1][::-1])
            assert backward is not None
            if backward.end() < position - low or low == 0:
                return position + 1 - backward.end(), forward.end()
            width *= 4


def encode(text: str) -> bytes:
    return text.encode("ascii", "replace")


def _scan_expressions(
    detectors: tuple[Detector, ...], indexes: tuple[int, ...], patterns: dict[int, tuple[str, ...]]
) -> list[tuple[str, str, int]]:
    """(class, expression, detector or ANY_DETECTOR) for the fast scan; an aligned class is
    searched by the aligned union of its detectors' patterns (see ALIGNED_CLASSES)."""
    expressions: list[tuple[str, str, int]] = []
    unions: dict[str, list[str]] = {}
    for index in indexes:
        segment_class = detectors[index].segment
        if segment_class in ALIGNED_CLASSES:
            unions.setdefault(segment_class, []).extend(patterns[index])
        else:
            expressions.extend((segment_class, pattern, index) for pattern in patterns[index])
    expressions.extend((segment_class, aligned_union(union), ANY_DETECTOR) for segment_class, union in unions.items())
    return expressions


def hyperscan_compiles(pattern: str) -> bool:
    """Whether Hyperscan takes `pattern` alone (True without Hyperscan). It refuses some valid RE2,
    e.g. `(?U)`; a custom pattern it refuses runs on RE2 over the text instead of failing the engine."""
    if hyperscan is not None:
        try:
            hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK).compile(expressions=[pattern.encode()])
        except hyperscan.error:
            return False
    if _hsnative is not None:
        try:
            _hsnative.Scanner([pattern.encode()], [(0, 0)], _native_classes({})[:1])
        except ValueError:
            return False
    return True


class HyperscanSearch:
    """All detectors in one Hyperscan block-mode database; matches reported by end offset."""

    name = "hyperscan"

    def __init__(self, detectors: tuple[Detector, ...], indexes: tuple[int, ...], patterns: dict[int, tuple[str, ...]]):
        if hyperscan is None:
            raise RuntimeError("hyperscan is not installed on this platform")
        expressions = _scan_expressions(detectors, indexes, patterns)
        # Hyperscan ids are unsigned: expression i reports id i, mapped back to (class, detector).
        self._reports = [(segment_class, detector) for segment_class, _, detector in expressions]
        self._database: Any = None
        if expressions:
            self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self._database.compile(expressions=[e.encode() for _, e, _ in expressions],
                                   ids=list(range(len(expressions))), elements=len(expressions),
                                   flags=[0] * len(expressions))

    def segments(self, data: bytes | str) -> Segments:
        if self._database is None or not data:
            return Segments()
        if isinstance(data, str):
            data = encode(data)
        hits: list[tuple[int, int]] = []
        add = hits.append

        def on_match(report: int, _start: int, end: int, _flags: int, _context: object) -> None:
            add((report, end))

        self._database.scan(data, match_event_handler=on_match)
        collector = _Collector(data)
        reports = self._reports
        for report, end in hits:
            segment_class, detector = reports[report]
            collector.hit(segment_class, detector, end - 1)
        return collector.found


def _byte_table(character_class: str) -> bytes:
    expression = re.compile(character_class.encode())
    return bytes(1 if expression.fullmatch(bytes([b])) else 0 for b in range(256))


NativeClass = tuple[str, int, bytes, bytes, bytes | None, int, int]


def _native_classes(confirm: dict[str, str]) -> list[NativeClass]:
    """The segment classes as the native scanner takes them: (name, kind, member table, joiner
    table, confirming expression, window back, window forward); the rules _Collector applies."""
    assert _hsnative is not None
    classes: list[NativeClass] = []
    for name, alphabet in SEGMENT_ALPHABETS.items():
        kind, member, joiner = _hsnative.KIND_ALPHABET, _byte_table(alphabet), bytes(256)
        back, forward = SEGMENT_WINDOWS.get(name, (0, 0))
        if name == "all":
            kind = _hsnative.KIND_ALL
        elif name == "line":
            kind = _hsnative.KIND_LINE
        elif name in SEGMENT_WINDOWS:
            kind = _hsnative.KIND_WINDOW
        elif name in SEGMENT_CHAINS:
            core, joiners = SEGMENT_CHAINS[name]
            kind, member, joiner = _hsnative.KIND_CHAIN, _byte_table(core), _byte_table(joiners)
        expression = confirm.get(name)
        encoded = expression.encode() if expression is not None else None
        classes.append((name, kind, member, joiner, encoded, back, forward))
    return classes


class NativeHyperscanSearch:
    """HyperscanSearch on Hyperscan's C API (module _hsnative): the match handler and the segment
    rules in C, so no Python call per match. That makes the cheap superset of an aligned class's
    union worth scanning for: more matches, each free, and every new segment confirmed by the
    union inside it. Gives the same segments as HyperscanSearch (tested)."""

    name = "hyperscan-native"

    def __init__(self, detectors: tuple[Detector, ...], indexes: tuple[int, ...], patterns: dict[int, tuple[str, ...]]):
        if _hsnative is None:
            raise RuntimeError("the native Hyperscan search is not built (install libhyperscan-dev, then reinstall)")
        expressions: list[bytes] = []
        reports: list[tuple[int, int]] = []
        confirm: dict[str, str] = {}
        class_index = {name: i for i, name in enumerate(SEGMENT_ALPHABETS)}
        for segment_class, expression, detector in _scan_expressions(detectors, indexes, patterns):
            if detector == ANY_DETECTOR and segment_class in ALIGNED_CLASSES:
                confirm[segment_class] = expression
                expression = chain_superset(segment_class)
            expressions.append(expression.encode())
            reports.append((class_index[segment_class], detector))
        self._scanner = _hsnative.Scanner(expressions, reports, _native_classes(confirm))

    def segments(self, data: bytes | str) -> Segments:
        if not data:
            return Segments()
        by_class, by_detector = self._scanner.segments(data)
        return Segments(by_class, by_detector)


class Re2Search:
    """One RE2 alternation per segment class: a class's matches never overlap another run."""

    name = "re2"

    def __init__(self, detectors: tuple[Detector, ...], indexes: tuple[int, ...], patterns: dict[int, tuple[str, ...]]):
        by_class: dict[str, list[str]] = {}
        for segment_class, expression, _ in _scan_expressions(detectors, indexes, patterns):
            by_class.setdefault(segment_class, []).append(f"(?:{expression})")
        options = re2.Options()
        options.max_mem = 256 << 20
        self._combined = {c: re2.compile("|".join(p).encode(), options) for c, p in by_class.items()}

    def segments(self, data: bytes | str) -> Segments:
        if not data:
            return Segments()
        if isinstance(data, str):
            data = encode(data)
        collector = _Collector(data)
        for segment_class, combined in self._combined.items():
            # The end of a match is inside its segment; a class's matches never span two.
            for match in combined.finditer(data):
                collector.hit(segment_class, ANY_DETECTOR, match.end() - 1)
        return collector.found


def make_search(backend: str, detectors: tuple[Detector, ...], indexes: tuple[int, ...],
                patterns: dict[int, tuple[str, ...]]) -> SegmentSearch:
    """`hyperscan` is the native search when built, else the Python binding; `hyperscan-native` and
    `hyperscan-python` ask for one of them (benchmarks and tests compare both)."""
    if backend == "auto":
        backend = "hyperscan" if HYPERSCAN_AVAILABLE else "re2"
    if backend == "hyperscan":
        backend = "hyperscan-native" if NATIVE_AVAILABLE else "hyperscan-python"
    if backend == "hyperscan-native":
        return NativeHyperscanSearch(detectors, indexes, patterns)
    if backend == "hyperscan-python":
        return HyperscanSearch(detectors, indexes, patterns)
    if backend == "re2":
        return Re2Search(detectors, indexes, patterns)
    raise ValueError(
        f"unknown DLP backend {backend!r}; expected auto, hyperscan, hyperscan-native, hyperscan-python or re2"
    )
