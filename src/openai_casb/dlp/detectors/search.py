"""Finding the segments that hold a hit, in one pass: Hyperscan when available, RE2 otherwise.

Both backends only answer "which segments of which class contain a match of some detector";
the exact matching inside a segment is done by the engine, identically for both. A backend
reports every segment that contains a match, so both give the same result (tested).

Text is searched as `text.encode("ascii", "replace")`: one byte per character, so byte offsets
are character offsets. Built-in patterns are ASCII; detectors that are not go through
`always_run` and are matched on the text itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import re2

from openai_casb.dlp.detectors.base import CLASS_PREFILTERS, SEGMENT_ALPHABETS, SEGMENT_RUNS, Detector

hyperscan: Any
try:  # x86_64 Linux wheels only; RE2 is the portable path
    import hyperscan
except ImportError:  # pragma: no cover - depends on the platform
    hyperscan = None

HYPERSCAN_AVAILABLE = hyperscan is not None


@dataclass(slots=True)
class Segment:
    segment_class: str
    start: int
    end: int
    detectors: set[int] | None = field(default=None)  # None: run every detector of the class


class SegmentSearch(Protocol):
    name: str

    def segments(self, text: str) -> list[Segment]: ...


ANY_DETECTOR = -1  # a hit of a class prefilter: every detector of the class may match there


def _run_patterns() -> dict[str, re.Pattern[bytes]]:
    runs = {name: SEGMENT_RUNS.get(name, alphabet + "*") for name, alphabet in SEGMENT_ALPHABETS.items()}
    return {name: re.compile(run.encode()) for name, run in runs.items()}


class _Expander:
    """Grows a position into the maximal run of its segment class (C-speed regex both ways).

    Backwards, the run is matched on a reversed window before the position that doubles until
    the run stops inside it: the cost follows the run's length, not the text's.
    """

    _runs = _run_patterns()

    def __init__(self, data: bytes) -> None:
        self.data = data

    def around(self, segment_class: str, position: int) -> tuple[int, int]:
        data = self.data
        if segment_class == "all":
            return 0, len(data)
        if segment_class == "line":
            line_end = data.find(b"\n", position)
            return data.rfind(b"\n", 0, position) + 1, len(data) if line_end < 0 else line_end
        run = self._runs[segment_class]
        forward = run.match(data, position)
        assert forward is not None  # `*` always matches
        width = 64
        while True:
            low = max(0, position + 1 - width)
            backward = run.match(data[low : position + 1][::-1])
            assert backward is not None
            if backward.end() < position + 1 - low or low == 0:
                return position + 1 - backward.end(), forward.end()
            width *= 4


def _collect(hits: list[tuple[str, int, int]], expander: _Expander, track: bool) -> list[Segment]:
    """Turn (class, position, detector) hits into distinct segments."""
    segments: dict[tuple[str, int], Segment] = {}
    last: dict[str, Segment] = {}
    for segment_class, position, detector in hits:
        current = last.get(segment_class)
        if current is None or not current.start <= position < current.end:
            start, end = expander.around(segment_class, position)
            current = segments.get((segment_class, start))
            if current is None:
                tracked = track and detector != ANY_DETECTOR
                current = Segment(segment_class, start, end, set() if tracked else None)
                segments[(segment_class, start)] = current
            last[segment_class] = current
        if current.detectors is not None:
            current.detectors.add(detector)
    return sorted(segments.values(), key=lambda s: (s.start, s.segment_class))


def encode(text: str) -> bytes:
    return text.encode("ascii", "replace")


def _scan_expressions(
    detectors: tuple[Detector, ...], indexes: tuple[int, ...], patterns: dict[int, tuple[str, ...]]
) -> list[tuple[str, str, int]]:
    """(class, expression, detector or ANY_DETECTOR) for the fast scan.

    A class with a prefilter is searched by it alone, in place of its detectors' patterns.
    """
    expressions: list[tuple[str, str, int]] = []
    prefiltered: set[str] = set()
    for index in indexes:
        segment_class = detectors[index].segment
        prefilter = CLASS_PREFILTERS.get(segment_class)
        if prefilter is not None:
            if segment_class not in prefiltered:
                prefiltered.add(segment_class)
                expressions.append((segment_class, prefilter, ANY_DETECTOR))
            continue
        expressions.extend((segment_class, pattern, index) for pattern in patterns[index])
    return expressions


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

    def segments(self, text: str) -> list[Segment]:
        if self._database is None or not text:
            return []
        data = encode(text)
        ends: list[int] = []
        ids: list[int] = []
        add_end, add_id = ends.append, ids.append

        def on_match(report: int, _from: int, to: int, _flags: int, _context: object) -> None:
            add_end(to)
            add_id(report)

        self._database.scan(data, match_event_handler=on_match)
        reports = self._reports
        hits = [(reports[i][0], end - 1, reports[i][1]) for i, end in zip(ids, ends, strict=True)]
        return _collect(hits, _Expander(data), track=True)


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

    def segments(self, text: str) -> list[Segment]:
        if not text:
            return []
        data = encode(text)
        hits: list[tuple[str, int, int]] = []
        for segment_class, combined in self._combined.items():
            # The end of a match is inside the segment (a prefilter's start may be the character
            # before it); a class's matches never span two segments.
            hits.extend((segment_class, m.end() - 1, -1) for m in combined.finditer(data))
        hits.sort(key=lambda h: h[1])
        return _collect(hits, _Expander(data), track=False)


def make_search(backend: str, detectors: tuple[Detector, ...], indexes: tuple[int, ...],
                patterns: dict[int, tuple[str, ...]]) -> SegmentSearch:
    if backend == "auto":
        backend = "hyperscan" if HYPERSCAN_AVAILABLE else "re2"
    if backend == "hyperscan":
        return HyperscanSearch(detectors, indexes, patterns)
    if backend == "re2":
        return Re2Search(detectors, indexes, patterns)
    raise ValueError(f"unknown DLP backend {backend!r}; expected auto, hyperscan or re2")
