"""Last line of defence: refuse to write anything that looks like a full OpenAI API key.

What looks like a key is `redaction.find_keys`: the same test the redaction uses, so whatever
is stored unredacted (a name such as `sk-learning-companion-for-kids`, an email address) is
accepted, and a key the redaction would mask is refused."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openai_casb.redaction import find_keys
from openai_casb.store.records import SecretInDataError


def looks_like_secret(value: Any) -> bool:
    if isinstance(value, str):
        return bool(find_keys(value))
    if isinstance(value, Mapping):
        return any(looks_like_secret(k) or looks_like_secret(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(looks_like_secret(item) for item in value)
    return False


def refuse_secrets(what: str, *values: Any) -> None:
    """Raise if any value holds a full key. The message names the place, never the value."""
    if any(looks_like_secret(value) for value in values):
        raise SecretInDataError(
            f"refused to store {what}: it contains what looks like a full API key (sk-...); "
            "redact it with openai_casb.redaction.redact_key first"
        )
