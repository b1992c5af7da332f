"""Keyword rules: when a detector's keyword is near a value (engine.KEYWORD_WINDOW), its
confidence is High. One pattern source for both exact steps: RE2 in Python, PCRE2 in C."""

from __future__ import annotations

import re2


def _keyword_alternatives(keywords: list[str]) -> str:
    # A space in a phrase also matches `_` and `-`: "card number" finds card_number, card-number.
    return "|".join(re2.escape(k).replace("\\ ", "[ _\\-]") for k in sorted(keywords, key=len, reverse=True))


def _keyword_words(keywords: tuple[str, ...]) -> str:
    """The keywords as one alternation: a keyword is a whole word (see `keyword_pattern`).
    Keywords written in capitals (acronyms: `SIN`, `PAN`) match in capitals only, so `np.sin(x)`
    is no SIN; the others match in any case."""
    acronyms = [k for k in keywords if k.isupper()]
    words = [k.lower() for k in keywords if not k.isupper()]
    alternatives = [f"(?i:{_keyword_alternatives(words)})"] if words else []
    if acronyms:
        alternatives.append(_keyword_alternatives(acronyms))
    return "|".join(alternatives)


_NOT_WORD = "[^A-Za-z0-9_\\-]"
_WORD = "[A-Za-z0-9_\\-]"


def keyword_pattern(keywords: tuple[str, ...], lookaround: bool = False) -> str:
    """Whether a text holds a keyword as a whole word: `_` and `-` are word characters here, so
    `patient_ref` or `.card-4` hold no keyword. RE2 has no look-arounds, so its form consumes the
    edges; the C step's (PCRE2) form looks around them instead, which lets PCRE2 skip to the
    keywords' first letters: the same texts match either way (tested side by side)."""
    if lookaround:
        return f"(?<!{_WORD})(?:{_keyword_words(keywords)})(?!{_WORD})"
    return f"(?:^|{_NOT_WORD})(?:{_keyword_words(keywords)})(?:{_NOT_WORD}|$)"
