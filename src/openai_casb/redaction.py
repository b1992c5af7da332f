"""Showing secrets safely. Every place that prints, logs or stores a key goes through here."""

from __future__ import annotations

import re
from typing import Any

# Kinds of the keys OpenAI issues (admin, project, service account, user, compliance) and of
# Anthropic's, as their prefix `sk-<kind>-` says.
_KEY_KINDS = ("admin", "proj", "svcacct", "None", "comp", "ant")
_KINDS = "|".join(_KEY_KINDS)
# The prefix is kept when a key is shown, so a reader knows the kind of key.
_KEY_PREFIX = re.compile(rf"^(sk-(?:{_KINDS})-|sk-)")


def redact_key(value: str | None) -> str:
    """`sk-admin-abcdef...xyz` -> `sk-admin...xyz`, as OpenAI's own `redacted_value` shows keys."""
    if not value:
        return ""
    match = _KEY_PREFIX.match(value)
    prefix = match.group(1).rstrip("-") if match else value[:2]
    tail = value[-3:] if len(value) > 12 else ""
    return f"{prefix}...{tail}"


# A candidate key in free text: `sk-` at the start of a word, then a long unbroken run of key
# characters. Redacted forms (`sk-admin...xyz`, `sk-proj-****`) break the run; words that merely
# contain `sk-` ("Risk-assessment-helper-bot", "desk-booking-2026") do not start with it. A candidate
# is a key only when it has a key's structure (`is_key`): names people choose
# (`sk-learning-companion-for-kids`) and email addresses are routing data and stay as they are.
KEY_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{20,}")
# After a known kind's prefix a 20-character body is a key whatever it looks like.
_KNOWN_PREFIX = re.compile(rf"sk-(?:{_KINDS})-")
_OPENAI_MARKER = "T3BlbkFJ"  # base64 of "OpenAI", inside every key OpenAI has issued since 2021
_LEGACY_KEY = re.compile(r"sk-[A-Za-z0-9]{48}")
_ANTHROPIC_KEY = re.compile(r"sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{93}AA")
_RUN = re.compile(r"[A-Za-z0-9]{16,}")
# An email address; its local part is at most 64 characters (RFC 5321).
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")


def _random_run(run: str) -> bool:
    """Whether a run of 16+ letters and digits reads as generated (a key body) rather than words:
    letters mixed with digits, or 32+ letters of both cases (a random body that long without a
    digit is rare, 0.4% in base62; CamelCase names that long are rare too)."""
    if any(c.isdigit() for c in run):
        return any(c.isalpha() for c in run)
    return len(run) >= 32 and any(c.isupper() for c in run) and any(c.islower() for c in run)


def _certain_key(candidate: str) -> bool:
    """Structures no person writes as a name or an email: the OpenAI marker, a legacy key, an Anthropic key."""
    return (_OPENAI_MARKER in candidate or _LEGACY_KEY.fullmatch(candidate) is not None
            or _ANTHROPIC_KEY.fullmatch(candidate) is not None)


def is_key(candidate: str) -> bool:
    """Whether a `KEY_IN_TEXT` candidate has a key's structure: a known prefix and a body of 20+
    characters, the OpenAI marker, a legacy key (`sk-` + 48 letters and digits), or any other `sk-`
    body holding a generated-looking run of 16+ letters and digits."""
    if _KNOWN_PREFIX.match(candidate) or _certain_key(candidate):
        return True
    return any(_random_run(run) for run in _RUN.findall(candidate, 3))


def find_keys(text: str) -> list[re.Match[str]]:
    """The keys in `text`, by `is_key`. A candidate inside an email address is the address's local
    part (routing data: a finding goes to its owner) and is left alone, unless it has a structure no
    address has (`_certain_key`)."""
    if "sk-" not in text:
        return []
    found = [match for match in KEY_IN_TEXT.finditer(text) if is_key(match.group(0))]
    if not found or "@" not in text:
        return found
    emails = [match.span() for match in _EMAIL.finditer(text)]
    return [match for match in found
            if _certain_key(match.group(0))
            or not any(start <= match.start() and match.end() <= end for start, end in emails)]


def redact_keys_in_text(text: str) -> str:
    """Every full key inside `text` redacted (`... sk-proj...xyz ...`); other text unchanged."""
    keys = find_keys(text)
    if not keys:
        return text
    parts, last = [], 0
    for match in keys:
        parts += [text[last:match.start()], redact_key(match.group(0))]
        last = match.end()
    return "".join(parts) + text[last:]


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
