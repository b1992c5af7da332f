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

from openai_casb.dlp.detectors.base import SEGMENT_ALPHABETS, Detector

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


def _run_patterns() -> dict[str, re.Pattern[bytes]]:
    return {name: re.compile(alphabet.encode() + b"*") for name, alphabet in SEGMENT_ALPHABETS.items()}


class _Expander:
    """Grows a position into the maximal run of its segment class (C-speed regex both ways)."""

    _runs = _run_patterns()

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._reversed: bytes | None = None

    def around(self, segment_class: str, position: int) -> tuple[int, int]:
        data = self.data
        if segment_class == "all":
            return 0, len(data)
        if segment_class == "line":
            line_end = data.find(b"\n", position)
            return data.rfind(b"\n", 0, position) + 1, len(data) if line_end < 0 else line_end
        run = self._runs[segment_class]
        forward = run.match(data, position)
        if self._reversed is None:
            self._reversed = data[::-1]
        mirror = len(data) - 1 - position
        backward = run.match(self._reversed, mirror)
        assert forward is not None  # `*` always matches
        assert backward is not None
        end = forward.end()
        start = position - (backward.end() - mirror) + 1
        return start, end


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
                current = Segment(segment_class, start, end, set() if track else None)
                segments[(segment_class, start)] = current
            last[segment_class] = current
        if current.detectors is not None:
            current.detectors.add(detector)
    return sorted(segments.values(), key=lambda s: (s.start, s.segment_class))


def encode(text: str) -> bytes:
    return text.encode("ascii", "replace")


class HyperscanSearch:
    """All detectors in one Hyperscan block-mode database; matches reported by end offset."""

    name = "hyperscan"

    def __init__(self, detectors: tuple[Detector, ...], indexes: tuple[int, ...], patterns: dict[int, tuple[str, ...]]):
        if hyperscan is None:
            raise RuntimeError("hyperscan is not installed on this platform")
        self._class_of = {i: detectors[i].segment for i in indexes}
        expressions: list[bytes] = []
        ids: list[int] = []
        for index in indexes:
            for pattern in patterns[index]:
                expressions.append(pattern.encode())
                ids.append(index)
        self._database: Any = None
        if expressions:
            self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self._database.compile(expressions=expressions, ids=ids, elements=len(expressions),
                                   flags=[0] * len(expressions))

    def segments(self, text: str) -> list[Segment]:
        if self._database is None or not text:
            return []
        data = encode(text)
        hits: list[tuple[str, int, int]] = []
        class_of = self._class_of

        def on_match(detector: int, _from: int, to: int, _flags: int, _context: object) -> None:
            hits.append((class_of[detector], to - 1, detector))

        self._database.scan(data, match_event_handler=on_match)
        return _collect(hits, _Expander(data), track=True)


class Re2Search:
    """One RE2 alternation per segment class: a class's matches never overlap another run."""

    name = "re2"

    def __init__(self, detectors: tuple[Detector, ...], indexes: tuple[int, ...], patterns: dict[int, tuple[str, ...]]):
        by_class: dict[str, list[str]] = {}
        for index in indexes:
            by_class.setdefault(detectors[index].segment, []).extend(f"(?:{p})" for p in patterns[index])
        options = re2.Options()
        options.max_mem = 256 << 20
        self._combined = {c: re2.compile("|".join(p).encode(), options) for c, p in by_class.items()}

    def segments(self, text: str) -> list[Segment]:
        if not text:
            return []
        data = encode(text)
        hits: list[tuple[str, int, int]] = []
        for segment_class, combined in self._combined.items():
            hits.extend((segment_class, m.start(), -1) for m in combined.finditer(data))
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
