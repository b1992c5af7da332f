"""What a detector is: a bounded pattern, the segment class it lives in, and how it is validated.

A *segment class* is the alphabet a detector's matches are made of (digits and separators, token
characters, ...). A match never crosses a character outside its class, so every match lies inside
one maximal run of the class (a segment). The engine only has to find which segments contain a
hit; the exact matching inside a segment is then the same whichever backend found it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from openai_casb.dlp.settings import Confidence
from openai_casb.dlp.validators import Form
from openai_casb.redaction import mask_value

# Alphabets (regex character classes) of the segment classes. "line" is one line, "all" the text.
SEGMENT_ALPHABETS: dict[str, str] = {
    "digits": r"[0-9 .\-]",
    "alnum": r"[A-Za-z0-9 ]",
    "token": r"[A-Za-z0-9_\-+/=.:~%]",
    "line": r"[^\n]",
    "all": r"[\s\S]",
    "window": r"[\s\S]",
}

# Window classes: a segment is the text from `back` characters before a hit's end to `forward`
# after it (overlapping windows merge), for detectors anchored on their scan pattern whose match
# spans lines (a secret key up to 300 characters after its key id): the exact step then reads a
# few hundred characters per hit instead of the whole text. Such a detector's match starts at
# most `back` - 1 characters before the hit's end and ends at most `forward` - 1 after it (tested).
SEGMENT_WINDOWS: dict[str, tuple[int, int]] = {"window": (64, 512)}

# How a segment grows from a hit, when not by its alphabet: a "digits" segment is a chain of
# digits joined by single separators, as every digit detector matches within one ("12  34" is two).
# A chain class is (core characters, joiners): a joiner belongs to the chain only between cores.
SEGMENT_CHAINS: dict[str, tuple[str, str]] = {"digits": (r"[0-9]", r"[ .\-]")}
SEGMENT_RUNS: dict[str, str] = {
    name: f"(?:{core}|{joiner}(?={core}))*" for name, (core, joiner) in SEGMENT_CHAINS.items()
}

# Minimum length of every "digits" detector's match (tested): shorter pieces are never searched.
MIN_DIGITS = 9

# Classes whose detectors the fast scan looks for as one union, aligned on a value's start: a
# value has a non-alphanumeric character (or the text's start) before it, so every detection
# lies in a segment holding such an aligned match, while most digit chains of ordinary text
# ("48213 92841") hold none. One expression instead of one per detector keeps Hyperscan's
# reports and the Python work per segment to one per candidate chain.
ALIGNED_CLASSES = frozenset({"digits"})


ALIGNED_START = "(?:^|[^A-Za-z0-9])"


def aligned_union(patterns: list[str]) -> str:
    return ALIGNED_START + "(?:" + "|".join(f"(?:{p})" for p in patterns) + ")"


def chain_superset(segment_class: str) -> str:
    """A cheaper expression that every match of the class's aligned union implies: MIN_DIGITS core
    characters chained by single joiners. The native search scans for it and confirms each new
    segment with the aligned union itself, from the character before the segment on (which keeps
    the alignment: detectors/search.py). Without a left context of its own, Hyperscan's scan can
    skip ahead to the next digit: about 8 % faster than with one."""
    core, joiner = SEGMENT_CHAINS[segment_class]
    return f"{core}(?:{joiner}?{core}){{{MIN_DIGITS - 1}}}"


def mask_secret(prefix_length: int) -> Callable[[str], str]:
    """Keep a secret's public prefix (its kind) and nothing else: `ghp_****…`."""

    def mask(value: str) -> str:
        return value[:prefix_length] + "*" * min(8, max(0, len(value) - prefix_length)) + "…"

    return mask


def mask_pem(value: str) -> str:
    header = value.split("-----", 2)[1] if value.count("-----") >= 2 else "PRIVATE KEY"
    return f"-----{header}----- [{len(value)} characters redacted]"


def strip_separators(value: str) -> str:
    return "".join(ch for ch in value if ch not in " .-")


@dataclass(frozen=True, slots=True)
class Detector:
    """One pattern of one profile. `classify` validates a value and names the entry it belongs to."""

    key: str
    profile: str
    entries: tuple[str, ...]
    pattern: str  # bounded, in the RE2/Hyperscan common subset, no anchors
    segment: str  # key of SEGMENT_ALPHABETS; the pattern's characters must all be in it
    classify: Callable[[str], str | None]
    keywords: tuple[str, ...] = ()
    base: Confidence = Confidence.LOW  # confidence without a keyword nearby; a keyword makes it High
    max_length: int = 256
    value_group: int = 0  # group holding the value when the pattern also matches a label
    trim: str = ""  # separators at which a too-long match may be cut back (card groups)
    mask: Callable[[str], str] = mask_value
    normalize: Callable[[str], str] = strip_separators  # for value hashes: same value, same hash
    ascii_only: bool = True
    # Built-in only: a Python regex continuing the value from the end of the match, for values
    # longer than RE2's repeat limit (PEM bodies, JWT payloads). No match there: no detection.
    extend: str | None = None
    # Built-in only: what the fast scan looks for instead of `pattern`, when a shorter form is
    # implied by every match (`...T3BlbkFJ[...]{20}` for `...T3BlbkFJ[...]{20,200}`). Long
    # variable tails make Hyperscan report one end offset per possible length; this reports one.
    scan_pattern: str | None = None
    # Built-in only: judges a validated value by its form and the text around it, (text, start,
    # end) -> "reject" (not a value there: an AWS account id inside an ARN), "weak" (Low instead
    # of `base`; a keyword nearby still makes it High), "sample" (a documented test value: Low,
    # keywords or not) or None (as `base`).
    judge: Callable[[str, int, int], Form | None] | None = None

    @property
    def fast_pattern(self) -> str:
        return self.scan_pattern or self.pattern


def single_entry(entry: str, check: Callable[[str], bool]) -> Callable[[str], str | None]:
    def classify(value: str) -> str | None:
        return entry if check(value) else None

    return classify
