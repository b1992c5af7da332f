"""Pieces of text the engine's exact step runs on: digit runs cut where no value can pass, and
segments joined into one string per class so that each detector's regex runs once over them."""

from __future__ import annotations

import re
from bisect import bisect_right

from openai_casb.dlp.detectors.base import MIN_DIGITS


def in_decimal(text: str, start: int, end: int) -> bool:
    """True when the digits at text[start:end]'s edges belong to a decimal number: `<digit>.`
    before a leading digit (`0.4702573977223816`) or `.<digit>` after a trailing digit."""
    if start >= 2 and text[start - 1] == "." and text[start - 2].isdigit() and text[start : start + 1].isdigit():
        return True
    return end + 1 < len(text) and text[end] == "." and text[end + 1].isdigit() and text[end - 1 : end].isdigit()


def continues(text: str, start: int, end: int) -> bool:
    """True when a grouped number goes on with the same separator (`4111 1111 1111` of a longer
    run), or is part of a decimal number: no digit detector uses `.` between two digit runs
    otherwise than as its own separator (SSN `123.45.6789`, CPF `529.982.247-25`)."""
    if in_decimal(text, start, end):
        return True
    if end + 1 < len(text):
        after = text[end]
        if after in " .-" and text[end + 1].isdigit() and after in text[start:end]:
            return True
    if start >= 2:
        before = text[start - 1]
        if before in " .-" and text[start - 2].isdigit() and before in text[start:end]:
            return True
    return False


# Bounded work on huge digit runs (number tables, "1234 5678 9012 ..." over 250 KB). A value
# has non-alphanumeric characters on both sides, so it never holds part of a digit group longer
# than any value; and it never spans two groups of a stretch with one separator kind longer than
# any value, as its own separator would continue it on one side (see `continues`). Cutting runs
# there drops nothing that could be detected and leaves one piece per group at most.
_DIGIT_GROUP = re.compile(r"[0-9]+")


def cut_digit_run(text: str, start: int, end: int, longest: int) -> list[tuple[int, int]]:
    """Pieces of a digit segment that can hold values; pieces too short for any are dropped."""
    groups = [m.span() for m in _DIGIT_GROUP.finditer(text, start, end)]
    dead: list[tuple[int, int]] = [g for g in groups if g[1] - g[0] > longest]
    first = 0  # first group of the current single-separator stretch
    for index in range(1, len(groups) + 1):
        change = False
        if index < len(groups):
            gap_start, gap_end = groups[index - 1][1], groups[index][0]
            if gap_end == gap_start + 1:
                if index - 1 == first or text[gap_start] == text[groups[first][1]]:
                    continue
                change = True  # another separator: the group between belongs to both stretches
        if groups[index - 1][1] - groups[first][0] > longest:
            dead.extend((g[1], g[1] + 1) for g in groups[first : index - 1])
        first = index - 1 if change else index
    dead.sort()
    pieces: list[tuple[int, int]] = []
    position = start
    for dead_start, dead_end in dead:
        pieces.append((position, dead_start))
        position = max(position, dead_end)
    pieces.append((position, end))
    return [(s, e) for s, e in pieces if e - s >= MIN_DIGITS]


class Batch:
    """Segments joined by a character outside their class, so that each detector's regex runs
    once over all of them (no match can cross the joint) instead of once per segment. Joined on
    first use: detectors the C exact step runs (engine_native) read `spans` only."""

    __slots__ = ("_joined", "_offsets", "_starts", "_text", "spans")

    def __init__(self, text: str, spans: list[tuple[int, int]]) -> None:
        self._text = text
        self.spans = spans
        self._joined: str | None = None
        self._starts: list[int] = []
        self._offsets: list[int] = []

    @property
    def joined(self) -> str:
        if self._joined is None:
            self._join()
        assert self._joined is not None
        return self._joined

    def _join(self) -> None:
        text, spans = self._text, self.spans
        if len(spans) == 1 and spans[0] == (0, len(text)):
            self._joined, self._starts, self._offsets = text, [0], [0]
            return
        position = 0
        for start, end in spans:
            self._starts.append(position)
            self._offsets.append(start - position)
            position += end - start + 1
        self._joined = "\n".join([text[start:end] for start, end in spans])

    def offset_at(self, position: int) -> int:
        """What to add to a position of the joined text to get the position in the text."""
        if self._joined is None:
            self._join()
        return self._offsets[bisect_right(self._starts, position) - 1]
