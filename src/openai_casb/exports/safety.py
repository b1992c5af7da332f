"""Last line of defence: no export or webhook payload may carry a plain API key.

Evidence reaches exports already masked; this check catches a regression anywhere upstream
rather than shipping a live credential to a SIEM or a chat channel.
"""

from __future__ import annotations

import re

from openai_casb.redaction import redact_key

# OpenAI key shapes (sk-, sk-proj-, sk-admin-, sk-svcacct-, ...) with a body long enough to be a
# real key; the redacted form (`sk-admin...xyz`) never matches because of its dots.
_PLAIN_KEY = re.compile(r"\bsk-[A-Za-z0-9_-]{20,}")


class PlainSecretError(ValueError):
    """Raised instead of emitting output that contains a plain secret. Its message is redacted."""


def find_plain_secrets(text: str) -> list[str]:
    """The plain keys found in `text`, each shown redacted."""
    return [redact_key(match.group(0)) for match in _PLAIN_KEY.finditer(text)]


def ensure_no_plain_secrets(text: str, what: str = "export") -> str:
    """Return `text` unchanged, or raise if it holds a plain key."""
    found = find_plain_secrets(text)
    if found:
        raise PlainSecretError(
            f"refusing to emit {what}: it contains {len(found)} unmasked API key(s) ({', '.join(found[:3])})"
        )
    return text
