"""Showing secrets safely. Every place that prints, logs or stores a key goes through here."""

from __future__ import annotations

import re
from typing import Any

# Keys as OpenAI issues them; the prefix is kept so a reader knows the kind of key.
_KEY_PREFIX = re.compile(r"^(sk-(?:admin|proj|svcacct|None|comp)-|sk-)")


def redact_key(value: str | None) -> str:
    """`sk-admin-abcdef...xyz` -> `sk-admin...xyz`, as OpenAI's own `redacted_value` shows keys."""
    if not value:
        return ""
    match = _KEY_PREFIX.match(value)
    prefix = match.group(1).rstrip("-") if match else value[:2]
    tail = value[-3:] if len(value) > 12 else ""
    return f"{prefix}...{tail}"


# A full key in free text: `sk-` at the start of a word, then a long unbroken run of key characters.
# Redacted forms (`sk-admin...xyz`, `sk-proj-****`) break the run; words that merely contain
# `sk-` ("Risk-assessment-helper-bot", "desk-booking-2026") do not start with it.
KEY_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{20,}")


def redact_keys_in_text(text: str) -> str:
    """Every full key inside `text` redacted (`... sk-proj...xyz ...`); other text unchanged."""
    if "sk-" not in text:
        return text
    return KEY_IN_TEXT.sub(lambda match: redact_key(match.group(0)), text)


def redact_keys_in(value: Any) -> Any:
    """`redact_keys_in_text` through strings, dicts (keys and values), lists and tuples; the same
    object back when nothing changed (the common case), other values unchanged."""
    if isinstance(value, str):
        return redact_keys_in_text(value)
    if isinstance(value, dict):
        items = [(redact_keys_in(k), redact_keys_in(v)) for k, v in value.items()]
        if all(new_k is k and new_v is v for (new_k, new_v), (k, v) in zip(items, value.items(), strict=True)):
            return value
        return dict(items)
    if isinstance(value, list | tuple):
        redacted = [redact_keys_in(item) for item in value]
        if all(new is old for new, old in zip(redacted, value, strict=True)):
            return value
        return redacted if isinstance(value, list) else tuple(redacted)
    return value


def mask_value(value: str, keep: int = 4) -> str:
    """Mask a DLP match, keeping its layout and at most `keep` trailing characters.

    Digits and letters become `*`, separators stay: `4111-1111-1111-1234` -> `****-****-****-1234`.
    Short values keep nothing so that the mask never reveals most of the value.
    """
    keep = keep if len(value) >= 3 * keep else 0
    head, tail = (value[:-keep], value[-keep:]) if keep else (value, "")
    return "".join("*" if ch.isalnum() else ch for ch in head) + tail
