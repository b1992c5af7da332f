"""A small regex engine with the DlpEngine interface the scanner uses, for scanner-only tests.

It keeps the scanner tests independent of the real profiles; round-trip tests use the real engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from openai_casb.inventory.model import EntryMatch
from openai_casb.redaction import mask_value

PATTERNS = {
    "ssn": re.compile(r"\b\d{3}-\d{2}-\d{4}\b"),
    "marker": re.compile(r"\bPLANTED-[A-Z0-9]{8}\b"),
}


@dataclass(frozen=True)
class FakeResult:
    entry_matches: tuple[EntryMatch, ...]
    matched_profiles: tuple[str, ...]


class FakeMatcher:
    def __init__(self) -> None:
        self._parts: list[str] = []

    def feed(self, chunk: str) -> None:
        self._parts.append(chunk)

    def result(self) -> FakeResult:
        text = "".join(self._parts)
        matches = []
        for entry, pattern in PATTERNS.items():
            found = pattern.findall(text)
            if found:
                samples = tuple(mask_value(v) for v in found[:3])
                matches.append(EntryMatch(profile="test", entry=entry, count=len(found), masked_samples=samples))
        return FakeResult(tuple(matches), ("test",) if matches else ())


class FakeEngine:
    profile_set_digest = "fake-digest-1"

    def matcher(self) -> FakeMatcher:
        return FakeMatcher()

    def redact(self, text: str) -> str:
        for pattern in PATTERNS.values():
            text = pattern.sub(lambda m: mask_value(m.group()), text)
        return text
