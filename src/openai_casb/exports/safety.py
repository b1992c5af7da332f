"""Last line of defence: no export or webhook payload may carry a plain API key.

Evidence reaches exports already masked; this check catches a regression anywhere upstream
rather than shipping a live credential to a SIEM or a chat channel.
"""

from __future__ import annotations

from openai_casb.redaction import find_keys, redact_key

# Keys as `redaction.find_keys` knows them (known prefixes sk-proj-, sk-admin-, sk-svcacct-, ...,
# the OpenAI marker, legacy and Anthropic keys, other `sk-` bodies that look generated); the
# redacted form (`sk-admin...xyz`) never matches because of its dots. Names and email addresses that
# merely start with `sk-` are not keys and pass, as they are stored and shown unredacted.


class PlainSecretError(ValueError):
    """Raised instead of emitting output that contains a plain secret. Its message is redacted."""


def find_plain_secrets(text: str) -> list[str]:
    """The plain keys found in `text`, each shown redacted."""
    return [redact_key(match.group(0)) for match in find_keys(text)]


def ensure_no_plain_secrets(text: str, what: str = "export") -> str:
    """Return `text` unchanged, or raise if it holds a plain key."""
    found = find_plain_secrets(text)
    if found:
        raise PlainSecretError(
            f"refusing to emit {what}: it contains {len(found)} unmasked API key(s) ({', '.join(found[:3])})"
        )
    return text
