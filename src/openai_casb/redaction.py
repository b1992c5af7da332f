"""Showing secrets safely. Every place that prints, logs or stores a key goes through here."""

from __future__ import annotations

import re

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


def mask_value(value: str, keep: int = 4) -> str:
    """Mask a DLP match, keeping its layout and at most `keep` trailing characters.

    Digits and letters become `*`, separators stay: `4111-1111-1111-1234` -> `****-****-****-1234`.
    Short values keep nothing so that the mask never reveals most of the value.
    """
    keep = keep if len(value) >= 3 * keep else 0
    head, tail = (value[:-keep], value[-keep:]) if keep else (value, "")
    return "".join("*" if ch.isalnum() else ch for ch in head) + tail
