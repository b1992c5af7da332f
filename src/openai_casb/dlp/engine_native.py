"""The exact step in C (module _exactnative) for predefined detectors over ASCII text.

engine.DlpEngine._match_detector is the reference: it matches one detector's regex over a batch
of segments, validates, judges and weighs keywords per hit. At a value every few kilobytes that
Python work costs three times the segment search; the C module does the same per hit with the
same patterns (on PCRE2, which backtracks as Python's re does) and C twins of the validators and
judges where they exist (_native_financial.c, _native_secrets.c), calling the Python ones
otherwise. Differential tests hold both paths to the same candidates.

Used for ASCII text only (most text; `str.isascii` is O(1)), where characters are bytes and
Python's character classes are the ASCII ones; other text takes the Python path.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, Literal

from openai_casb.dlp import validators
from openai_casb.dlp.detectors import PREDEFINED_DETECTORS, secrets
from openai_casb.dlp.detectors.base import Detector
from openai_casb.dlp.keywords import keyword_pattern

_exactnative: ModuleType | None
try:
    from openai_casb.dlp import _exactnative
except ImportError:  # built only where the PCRE2 headers were installed (setup.py)
    _exactnative = None

NATIVE_EXACT_AVAILABLE = _exactnative is not None

Exact = Literal["auto", "native", "python"]
_BUILT_IN = {detector.key: detector for detector in PREDEFINED_DETECTORS}

# What Python's re (str patterns) and PCRE2 read differently on ASCII text, or what PCRE2 refuses:
# \s and \S (Python's whitespace also holds \x1c-\x1f), \Z (PCRE2: also before a final newline),
# \v (Python: the character \x0b; PCRE2: any vertical space), \N{...}, \u, \U (PCRE2 refuses
# them), `{,n}` (literal text in PCRE2 before 10.43), inline flags a, L, u, x. A detector whose
# pattern holds one runs in Python; `[\s\S]` (any character) means the same in both.
_NOT_PCRE2 = re.compile(r"\\[sSZvNuU]|\{,|\(\?[aiLmsux-]*[aLux]")


def pcre2_reads_as_python(pattern: str) -> bool:
    """Whether PCRE2 matches `pattern` on ASCII text exactly as Python's re (conservative)."""
    return _NOT_PCRE2.search(pattern.replace(r"[\s\S]", "")) is None


@functools.cache
def configure_native() -> ModuleType:
    """The C module, given once the data its validators read (owned by the Python modules)."""
    if _exactnative is None:
        raise RuntimeError("the native exact step is not built (install libpcre2-dev, then reinstall)")
    _exactnative.configure({**validators.native_tables(), **secrets.native_tables()})
    return _exactnative


class NativeExact:
    """The C exact step of the detectors it can run: built-in, with ASCII keywords."""

    def __init__(
        self,
        detectors: Sequence[Detector],
        patterns: Sequence[str],
        population_checks: Sequence[Callable[[str], bool] | None],
        enabled_entries: set[tuple[str, str]],
        thresholds: dict[str, int],
        keyword_window: int,
    ) -> None:
        module = configure_native()
        self._local: dict[int, int] = {}
        specs: list[tuple[object, ...]] = []
        for index, detector in enumerate(detectors):
            keywords = keyword_pattern(detector.keywords, lookaround=True) if detector.keywords else None
            if detector.key.startswith("custom:") or not detector.ascii_only or not (keywords or "").isascii():
                continue  # user patterns run on RE2; a non-ASCII keyword folds case beyond ASCII
            if not all(pcre2_reads_as_python(p) for p in (patterns[index], detector.extend or "")):
                continue
            self._local[index] = len(specs)
            specs.append((
                detector.key,
                detector.entries,
                tuple((detector.profile, entry) in enabled_entries for entry in detector.entries),
                patterns[index].encode(),
                detector.value_group,
                detector.extend.encode() if detector.extend else None,
                detector.max_length,
                detector.trim.encode(),
                detector.segment == "digits",
                None if keywords is None else keywords.encode(),
                detector.base.rank,
                thresholds[detector.profile],
                detector.classify,
                detector.judge,
                population_checks[index],
                # C twins stand in for the built-in detector of their key only, not for one whose
                # validator or judge was replaced (dataclasses.replace, as tests do).
                _BUILT_IN.get(detector.key) is detector,
            ))
        self._exact = module.Exact(specs, keyword_window)

    def covers(self, index: int) -> bool:
        return index in self._local

    def match(
        self, index: int, text: str, spans: list[tuple[int, int]], found: list[Any], census: dict[Any, Any]
    ) -> None:
        """Appends the candidates of detector `index` in `spans` of `text` (ASCII) to `found`.
        Raises RuntimeError when PCRE2 gives up (a match or stack limit), maybe after appending
        some, or when another thread is inside this step (a Python validator let it run)."""
        self._exact.match(self._local[index], index, text, spans, found, census)


def exact_wanted(exact: Exact) -> bool:
    if exact == "python":
        return False
    if exact == "native" and not NATIVE_EXACT_AVAILABLE:
        raise RuntimeError("the native exact step is not built (install libpcre2-dev, then reinstall)")
    return NATIVE_EXACT_AVAILABLE
