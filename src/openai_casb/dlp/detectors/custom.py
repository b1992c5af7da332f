"""Detectors for custom profiles: bounded regexes, word lists and exact data match sets."""

from __future__ import annotations

import hashlib
import json
import re

from openai_casb.dlp.detectors.base import Detector
from openai_casb.dlp.detectors.search import hyperscan_compiles
from openai_casb.dlp.edm import EdmSet, load_edm
from openai_casb.dlp.settings import Confidence, DlpSettings, ExactDataEntry, RegexEntry, WordListEntry

_META = frozenset("\\.^$|?*+()[]{}")
# Escapes naming Unicode classes or code points: the fast scan reads text as ASCII (other characters
# become "?"), where they would never hit, so such patterns always run on the text itself.
_UNICODE_ESCAPE = re.compile(r"\\[pP]|\\x\{")


def escape(word: str) -> str:
    """Escape for both RE2 and Hyperscan (which refuses some of re.escape's escapes)."""
    return "".join("\\" + ch if ch in _META else ch for ch in word)


def _same(value: str) -> str:
    return value


def _regex_detector(profile: str, entry: RegexEntry) -> Detector:
    pattern = entry.pattern if entry.case_sensitive else f"(?i:{entry.pattern})"
    name = entry.name
    return Detector(
        key=f"custom:{profile}:{name}", profile=profile, entries=(name,), pattern=pattern, segment="all",
        classify=lambda _value: name, keywords=entry.keywords, base=Confidence.LOW, max_length=1024,
        normalize=_same,
        ascii_only=pattern.isascii() and not _UNICODE_ESCAPE.search(pattern) and hyperscan_compiles(pattern),
    )


def _words_detector(profile: str, entry: WordListEntry) -> Detector:
    words = sorted(entry.words, key=len, reverse=True)  # longest first: "foobar" before "foo"
    body = "|".join(escape(w) for w in words)
    pattern = f"(?:{body})" if entry.case_sensitive else f"(?i:{body})"
    name = entry.name
    return Detector(
        key=f"custom:{profile}:{name}", profile=profile, entries=(name,), pattern=pattern, segment="line",
        classify=lambda _value: name, keywords=entry.keywords, base=Confidence.LOW,
        max_length=max(len(w) for w in words),
        normalize=_same if entry.case_sensitive else str.casefold, ascii_only=pattern.isascii(),
    )


def build_custom_detectors(
    settings: DlpSettings, salt: str
) -> tuple[tuple[Detector, ...], tuple[tuple[str, EdmSet], ...], str]:
    """(detectors, (profile, EDM set) pairs, digest of everything that changes their results)."""
    detectors: list[Detector] = []
    edm_sets: list[tuple[str, EdmSet]] = []
    digest_parts: list[object] = []
    for profile in settings.custom_profiles:
        for entry in profile.entries:
            if isinstance(entry, RegexEntry):
                detectors.append(_regex_detector(profile.name, entry))
                digest_parts.append(entry.model_dump(mode="json"))
            elif isinstance(entry, WordListEntry):
                detectors.append(_words_detector(profile.name, entry))
                digest_parts.append(entry.model_dump(mode="json"))
            elif isinstance(entry, ExactDataEntry):
                edm = load_edm(entry.name, entry.csv_path, entry.columns, entry.case_sensitive, salt)
                edm_sets.append((profile.name, edm))
                values = hashlib.sha256("".join(sorted(edm.hashes)).encode()).hexdigest()
                digest_parts.append([profile.name, entry.name, entry.case_sensitive, values])
    digest = hashlib.sha256(json.dumps(digest_parts, sort_keys=True).encode()).hexdigest()
    return tuple(detectors), tuple(edm_sets), digest
